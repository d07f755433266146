"""The style templates the editor ships (intros, outros, lower thirds, titles, overlays), by id,
for clips whose ``styleTemplate.styleTemplateId`` names one that the document does not carry: a
.tlsp saves a sequence's resources as ``{}``, so a saved project names them without defining them.

Taken from Timeline Studio's src/features/style-templates/data/style-templates.json (commit
42b19963, MIT with Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media)):
each template's id, English name, category, style, aspect ratio, duration and elements (their
placeholder texts as the editor ships them), converted as a document's own are.
"""

from __future__ import annotations

from typing import Any

#: id -> the StyleTemplate as the editor's catalogue defines it.
BUILTIN_STYLE_TEMPLATES: dict[str, dict[str, Any]] = {
    "modern-intro-1": {
        "id": "modern-intro-1",
        "name": "Modern Intro",
        "category": "intro",
        "style": "modern",
        "aspectRatio": "16:9",
        "duration": 3,
        "elements": [
            {
                "id": "title-text",
                "type": "text",
                "name": "Title",
                "position": {"x": 50, "y": 40},
                "size": {"width": 60, "height": 15},
                "timing": {"start": 0.5, "end": 3},
                "properties": {
                    "text": "Ваш заголовок",
                    "fontSize": 48,
                    "fontFamily": "Arial",
                    "color": "#ffffff",
                    "textAlign": "center",
                    "fontWeight": "bold",
                },
                "animations": [
                    {
                        "id": "title-fade-in",
                        "type": "fadeIn",
                        "duration": 0.8,
                        "delay": 0.5,
                        "easing": "ease-out",
                    }
                ],
            },
            {
                "id": "subtitle-text",
                "type": "text",
                "name": "Подзаголовок",
                "position": {"x": 50, "y": 60},
                "size": {"width": 40, "height": 8},
                "timing": {"start": 1.2, "end": 3},
                "properties": {
                    "text": "Ваш подзаголовок",
                    "fontSize": 24,
                    "fontFamily": "Arial",
                    "color": "#cccccc",
                    "textAlign": "center",
                    "fontWeight": "normal",
                },
                "animations": [
                    {
                        "id": "subtitle-slide-in",
                        "type": "slideIn",
                        "duration": 0.6,
                        "delay": 1.2,
                        "direction": "up",
                        "easing": "ease-out",
                    }
                ],
            },
        ],
    },
    "minimal-outro-1": {
        "id": "minimal-outro-1",
        "name": "Minimal Outro",
        "category": "outro",
        "style": "minimal",
        "aspectRatio": "16:9",
        "duration": 4,
        "elements": [
            {
                "id": "thanks-text",
                "type": "text",
                "name": "Благодарность",
                "position": {"x": 50, "y": 45},
                "size": {"width": 50, "height": 12},
                "timing": {"start": 0.8, "end": 4},
                "properties": {
                    "text": "Спасибо за просмотр!",
                    "fontSize": 36,
                    "fontFamily": "Arial",
                    "color": "#333333",
                    "textAlign": "center",
                    "fontWeight": "normal",
                },
                "animations": [
                    {
                        "id": "thanks-fade-in",
                        "type": "fadeIn",
                        "duration": 1,
                        "delay": 0.8,
                        "easing": "ease-in-out",
                    }
                ],
            },
            {
                "id": "subscribe-text",
                "type": "text",
                "name": "Подписка",
                "position": {"x": 50, "y": 65},
                "size": {"width": 35, "height": 8},
                "timing": {"start": 2, "end": 4},
                "properties": {
                    "text": "Подпишитесь на канал",
                    "fontSize": 18,
                    "fontFamily": "Arial",
                    "color": "#666666",
                    "textAlign": "center",
                    "fontWeight": "normal",
                },
                "animations": [
                    {
                        "id": "subscribe-slide-in",
                        "type": "slideIn",
                        "duration": 0.8,
                        "delay": 2,
                        "direction": "up",
                        "easing": "ease-out",
                    }
                ],
            },
        ],
    },
    "corporate-lower-third-1": {
        "id": "corporate-lower-third-1",
        "name": "Corporate Lower Third",
        "category": "lower-third",
        "style": "corporate",
        "aspectRatio": "16:9",
        "duration": 5,
        "elements": [
            {
                "id": "background-shape",
                "type": "shape",
                "name": "Фон",
                "position": {"x": 5, "y": 75},
                "size": {"width": 40, "height": 20},
                "timing": {"start": 0, "end": 5},
                "properties": {"backgroundColor": "#1e3a8a", "borderRadius": 8, "opacity": 0.9},
                "animations": [
                    {
                        "id": "bg-slide-in",
                        "type": "slideIn",
                        "duration": 0.5,
                        "direction": "left",
                        "easing": "ease-out",
                    }
                ],
            },
            {
                "id": "name-text",
                "type": "text",
                "name": "Имя",
                "position": {"x": 7, "y": 78},
                "size": {"width": 36, "height": 6},
                "timing": {"start": 0.3, "end": 5},
                "properties": {
                    "text": "Имя Фамилия",
                    "fontSize": 24,
                    "fontFamily": "Arial",
                    "color": "#ffffff",
                    "textAlign": "left",
                    "fontWeight": "bold",
                },
                "animations": [
                    {
                        "id": "name-fade-in",
                        "type": "fadeIn",
                        "duration": 0.4,
                        "delay": 0.3,
                        "easing": "ease-out",
                    }
                ],
            },
            {
                "id": "title-text",
                "type": "text",
                "name": "Должность",
                "position": {"x": 7, "y": 85},
                "size": {"width": 36, "height": 4},
                "timing": {"start": 0.6, "end": 5},
                "properties": {
                    "text": "Должность",
                    "fontSize": 16,
                    "fontFamily": "Arial",
                    "color": "#e5e7eb",
                    "textAlign": "left",
                    "fontWeight": "normal",
                },
                "animations": [
                    {
                        "id": "title-fade-in",
                        "type": "fadeIn",
                        "duration": 0.4,
                        "delay": 0.6,
                        "easing": "ease-out",
                    }
                ],
            },
        ],
    },
    "bold-title-1": {
        "id": "bold-title-1",
        "name": "Bold Title",
        "category": "title",
        "style": "bold",
        "aspectRatio": "16:9",
        "duration": 2.5,
        "elements": [
            {
                "id": "main-title",
                "type": "text",
                "name": "Основной заголовок",
                "position": {"x": 50, "y": 50},
                "size": {"width": 80, "height": 20},
                "timing": {"start": 0, "end": 2.5},
                "properties": {
                    "text": "Ваш заголовок",
                    "fontSize": 64,
                    "fontFamily": "Arial Black",
                    "color": "#ff6b35",
                    "textAlign": "center",
                    "fontWeight": "900",
                },
                "animations": [
                    {
                        "id": "title-bounce",
                        "type": "bounce",
                        "duration": 1,
                        "delay": 0.2,
                        "easing": "ease-out",
                    }
                ],
            }
        ],
    },
    "classic-overlay-1": {
        "id": "classic-overlay-1",
        "name": "Classic Overlay",
        "category": "overlay",
        "style": "classic",
        "aspectRatio": "16:9",
        "duration": 6,
        "elements": [
            {
                "id": "film-grain",
                "type": "overlay",
                "name": "Кинопленка",
                "position": {"x": 0, "y": 0},
                "size": {"width": 100, "height": 100},
                "timing": {"start": 0, "end": 6},
                "properties": {"opacity": 0.3, "blendMode": "multiply"},
                "animations": [
                    {
                        "id": "grain-flicker",
                        "type": "flicker",
                        "duration": 6,
                        "delay": 0,
                        "easing": "linear",
                    }
                ],
            }
        ],
    },
}
