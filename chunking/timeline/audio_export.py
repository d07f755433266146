"""The export's sound: which audio codecs each container carries, the one an export gets, and
the bitrates its encoder takes."""

from __future__ import annotations

from chunking.timeline.model import ExportSettings

#: The audio codecs a user may choose, by name, and the FFmpeg encoder that writes each.
AUDIO_ENCODERS = {
    "aac": "aac",
    "opus": "libopus",
    "flac": "flac",
    "alac": "alac",
    "pcm_s16le": "pcm_s16le",
    "pcm_s24le": "pcm_s24le",
    "mp3": "libmp3lame",
}
#: Which audio codecs each container can carry (what FFmpeg's muxer for it writes and a player
#: of that container reads: mov takes no Opus or FLAC, mp4 no PCM, webm only Opus).
CONTAINER_AUDIO: dict[str, tuple[str, ...]] = {
    "mp4": ("aac", "opus", "alac"),
    "mov": ("aac", "alac", "pcm_s16le", "pcm_s24le"),
    "mkv": ("aac", "opus", "flac", "pcm_s16le", "pcm_s24le"),
    "webm": ("opus",),
}
#: The audio-only outputs (``render -o mix.wav``): each container's codecs, its default first,
#: and the FFmpeg muxer that writes it. A job for one renders no video, only the timeline's mix.
AUDIO_CONTAINERS: dict[str, tuple[tuple[str, ...], str]] = {
    "wav": (("pcm_s16le", "pcm_s24le"), "wav"),
    "flac": (("flac",), "flac"),
    "m4a": (("aac", "alac"), "ipod"),
    "ogg": (("opus", "flac"), "ogg"),
    "opus": (("opus",), "ogg"),
    "mp3": (("mp3",), "mp3"),
}
CONTAINER_AUDIO.update({name: codecs for name, (codecs, _) in AUDIO_CONTAINERS.items()})
#: The audio codec each container gets when none is chosen.
DEFAULT_AUDIO = {"mp4": "aac", "mov": "aac", "mkv": "opus", "webm": "opus"}
DEFAULT_AUDIO.update({name: codecs[0] for name, (codecs, _) in AUDIO_CONTAINERS.items()})
#: The same for a lossless export (webm has none): its sound is as exact as its picture.
LOSSLESS_AUDIO = {"mp4": "alac", "mov": "alac", "mkv": "flac", "wav": "pcm_s24le",
                  "flac": "flac", "m4a": "alac", "ogg": "flac"}  # fmt: skip
#: Codecs that keep every sample and take no bitrate.
LOSSLESS_AUDIO_NAMES = frozenset({"flac", "alac", "pcm_s16le", "pcm_s24le"})
#: How codecs are named in messages about bitrates.
AUDIO_TITLES = {"aac": "AAC", "opus": "Opus", "flac": "FLAC", "alac": "ALAC",
                "pcm_s16le": "16-bit PCM", "pcm_s24le": "24-bit PCM", "mp3": "MP3"}  # fmt: skip
#: Where users choose an audio codec, for messages: the command line's flag and the API's field.
AUDIO_FLAG = "--audio-codec (settings.audio_codec)"
#: Other spellings of audio codec names (FFmpeg's encoder names, common short forms).
AUDIO_ALIASES = {"libopus": "opus", "pcm": "pcm_s16le", "pcm16": "pcm_s16le",
                 "pcm24": "pcm_s24le", "wav": "pcm_s16le", "libmp3lame": "mp3",
                 "lame": "mp3"}  # fmt: skip
#: The lowest audio_bitrate any export takes, bit/s (what the loader reads as kbit/s below it).
LEAST_AUDIO_BITRATE = 8000


def audio_only(container: str) -> bool:
    """Whether ``container`` is an audio-only output (wav, flac, m4a, ogg, opus, mp3)."""
    return container in AUDIO_CONTAINERS


def canonical_audio(name: str) -> str:
    """An audio codec name as AUDIO_ENCODERS spells it (lower case, aliases resolved)."""
    key = name.strip().lower().replace("-", "_")
    return AUDIO_ALIASES.get(key, key)


def audio_codec_of(export: ExportSettings) -> str:
    """The audio codec this export encodes with: the chosen one, else its container's (lossless
    or not)."""
    if export.audio_codec is not None:
        return export.audio_codec
    if export.lossless and export.container in LOSSLESS_AUDIO:
        return LOSSLESS_AUDIO[export.container]
    return DEFAULT_AUDIO.get(export.container, "aac")


def audio_codec_problem(export: ExportSettings) -> str | None:
    """Why the chosen audio codec cannot be written, or not in this container (None when it can
    or none is chosen)."""
    chosen = export.audio_codec
    if chosen is None:
        return None
    if chosen not in AUDIO_ENCODERS:
        return f"{AUDIO_FLAG} {chosen!r} is not one of {', '.join(AUDIO_ENCODERS)}"
    allowed = CONTAINER_AUDIO.get(export.container, ())
    if chosen not in allowed:
        return (
            f"{AUDIO_FLAG} {chosen} cannot be stored in {export.container}: use one of "
            f"{', '.join(allowed)}"
        )
    return None


#: The sample rates (Hz) codecs encode at where they take only some (FFmpeg's encoders' lists);
#: PCM, FLAC and ALAC take any rate the timeline may have (8 to 384 kHz).
AUDIO_RATES = {
    "opus": (8000, 12000, 16000, 24000, 48000),
    "mp3": (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
    "aac": (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200,
            96000),
}  # fmt: skip
#: Where users choose the mix's sample rate, for messages.
RATE_FLAG = "--sample-rate (settings.sample_rate)"


def sample_rate_problem(export: ExportSettings, rate: int) -> str | None:
    """Why the export's audio codec cannot encode a mix at ``rate`` Hz as it is (None when it
    can): asked for explicitly, a rate the encoder would quietly change is refused."""
    codec = audio_codec_of(export)
    rates = AUDIO_RATES.get(codec)
    if rates is None or rate in rates:
        return None
    return (
        f"{RATE_FLAG} {rate}: {AUDIO_TITLES.get(codec, codec)} (the audio of {export.container}) "
        f"encodes at {', '.join(str(r) for r in rates)} Hz only"
    )


def audio_bitrates(codec: str) -> tuple[int, int | None]:
    """The audio bitrates (bit/s) ``codec``'s encoder takes for the stereo mix (None: no upper
    limit).

    libopus refuses more than 256 kbit/s a channel (FFmpeg's libopusenc: the encoder fails to
    open). FFmpeg's AAC encoder carries at most 6144 bits a channel in each 1024-sample frame,
    12 x the sample rate in stereo (576 kbit/s at 48 kHz), and encodes a higher request at that
    most: projects asking more rendered before and still do. LAME writes at most 320 kbit/s."""
    if codec == "opus":
        return LEAST_AUDIO_BITRATE, 512_000
    if codec == "mp3":
        return LEAST_AUDIO_BITRATE, 320_000  # MPEG-1 Layer III's highest bitrate
    return LEAST_AUDIO_BITRATE, None


def audio_bitrate_problem(export: ExportSettings) -> str | None:
    """Why the export's audio bitrate is not one its audio encoder takes (None when it is)."""
    codec = audio_codec_of(export)
    if codec in LOSSLESS_AUDIO_NAMES:
        return None  # FLAC, ALAC and PCM ignore it: refusing it would refuse a setting not used
    low, high = audio_bitrates(codec)
    if low <= export.audio_bitrate and (high is None or export.audio_bitrate <= high):
        return None
    allowed = f"{low // 1000} to {high / 1000:g}" if high is not None else f"at least {low // 1000}"
    whose = "" if export.audio_codec else f" (the audio of {export.container})"
    return (
        f"audio_bitrate {export.audio_bitrate / 1000:g} kbit/s is not one "
        f"{AUDIO_TITLES.get(codec, codec)}{whose} takes: use {allowed} kbit/s"
    )
