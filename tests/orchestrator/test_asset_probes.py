"""An asset's probe record: the upload check's verdict read from it agrees with
``media_problem``, it names the asset rather than a path, and it survives storage as written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from orchestrator.asset_probes import (
    CHECKS_AT_ONCE,
    asset_facts,
    from_record,
    load_probe,
    probe_file,
    probe_key,
    save_probe,
    to_record,
    upload_problem,
)
from providers.storage import LocalStorage
from providers.storage.encrypted import EncryptedStorage
from tests.media import make_image, make_video, write_wav
from workers.probe import media_problem
from workers.probe_headers import MediaFacts


def _files(folder: Path) -> dict[str, Path]:
    """A video, a sound file, a still, and two files that are not media."""
    broken = folder / "broken.png"
    make_image(broken, (64, 36), (200, 0, 0, 255))
    broken.write_bytes(broken.read_bytes()[:60])
    text = folder / "text.mp4"
    text.write_bytes(b"not a video at all\n" * 50)
    return {
        "video": make_video(folder / "shot.mp4", frames=3, size=(64, 36), audio_hz=440.0),
        "sound": write_wav(folder / "voice.wav", np.zeros((2, 4800), np.float32), 48000),
        "still": make_image(folder / "still.png", (64, 36), (0, 200, 0, 255)),
        "broken still": broken,
        "text": text,
    }


@pytest.mark.parametrize("kind", ["video", "sound", "still", "broken still", "text"])
def test_the_recorded_verdict_is_media_problems(tmp_path: Path, kind: str) -> None:
    path = _files(tmp_path)[kind]
    name = hashlib.sha256(path.read_bytes()).hexdigest() + path.suffix
    ref = "asset:sha256:" + name
    facts = probe_file(str(path), name)
    expected = media_problem(str(path))
    got = upload_problem(facts)
    assert (got is None) == (expected is None), (got, expected)
    if expected is not None:
        assert got == expected.replace(str(path), ref)
    text = json.dumps(to_record(facts))
    assert str(tmp_path) not in text  # the record names the asset, not this disk


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        (MediaFacts(has_video=True, has_audio=True), None),
        (MediaFacts(has_audio=True, video="no video stream in x"), None),
        (MediaFacts(), "has no video or audio stream"),
        (
            MediaFacts(opened="cannot open x"),
            "is not a media file a render can use (cannot open x)",
        ),
        (MediaFacts(has_audio=True, audio="bad"), "is not a media file a render can use (bad)"),
        (MediaFacts(image=True, has_video=True), None),
        (MediaFacts(image=True, opened="cut"), "is not a readable image (cut)"),
    ],
)
def test_upload_problem(facts: MediaFacts, problem: str | None) -> None:
    assert upload_problem(facts) == problem


def test_a_record_round_trips_and_a_foreign_one_is_none() -> None:
    facts = MediaFacts(has_video=True, has_audio=True, seconds=2.5, audio_streams=2, hdr="PQ")
    assert from_record(json.loads(json.dumps(to_record(facts)))) == facts
    assert from_record({**to_record(facts), "version": 0}) is None
    assert from_record({"version": to_record(facts)["version"]}) is None
    assert from_record([1, 2]) is None


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_saved_record_loads_back(tmp_path: Path, encrypted: bool) -> None:
    storage = LocalStorage(str(tmp_path / "store"))
    if encrypted:
        storage = EncryptedStorage(storage, b"k" * 32)  # type: ignore[assignment]
    name = "0" * 64 + ".mp4"
    assert load_probe(storage, name) is None
    facts = MediaFacts(has_video=True, seconds=1.0)
    save_probe(storage, name, facts)
    assert storage.exists(probe_key(name))
    assert load_probe(storage, name) == facts


def test_an_unreadable_record_is_none(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "store"))
    name = "1" * 64 + ".wav"
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff{not json")
    storage.put_file(probe_key(name), str(junk))
    assert load_probe(storage, name) is None


def test_an_asset_storage_lacks_has_no_facts_and_no_note(tmp_path: Path) -> None:
    """The submit names each clip playing an asset nobody uploaded; no note is added."""
    assert asset_facts(LocalStorage(str(tmp_path / "store")), "2" * 64 + ".mp4") is None


def test_probes_at_submit_decode_no_more_at_once_than_uploads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe of an asset without a record, at submit, decoded outside the upload checks'
    bound: a dozen submits of large stills at once would each decode one in full."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import workers.probe

    storage = LocalStorage(str(tmp_path / "store"))
    names = []
    for n in range(6):
        path = tmp_path / f"still{n}.png"
        make_image(path, (16, 16), (n, 0, 0, 255))
        names.append(hashlib.sha256(path.read_bytes()).hexdigest() + ".png")
        storage.put_file("assets/" + names[-1], str(path))
    busy, most, lock = [0], [0], threading.Lock()
    examine = workers.probe.examine

    def counted(*args: object, **kwargs: object) -> MediaFacts:
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.05)
        try:
            return examine(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                busy[0] -= 1

    monkeypatch.setattr(workers.probe, "examine", counted)
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda name: asset_facts(storage, name), names))
    assert all(isinstance(facts, MediaFacts) for facts in got), got
    assert most[0] <= CHECKS_AT_ONCE


def test_no_job_output_may_be_delivered_over_a_record(tmp_path: Path) -> None:
    """A record under a prefix of its own could be overwritten by a job's output delivered
    there, and every submit playing that asset judged by it: it lives in the reserved
    ``assets/`` area, where no output may go and no upload name reaches."""
    from orchestrator.asset_uploads import AssetUploadError, parse_asset_name
    from workers.output_rules import job_area

    store = tmp_path / "store"
    store.mkdir()
    name = "3" * 64 + ".mp4"
    assert job_area((store / probe_key(name)).as_uri(), store.as_uri()) is not None
    with pytest.raises(AssetUploadError):
        parse_asset_name(probe_key(name).rsplit("/", 1)[1])


def test_a_record_is_read_from_storage_once_per_process(tmp_path: Path) -> None:
    """Each submit read every asset's record again (one GET each: 300 assets took 4 s on a
    local S3); what the bytes under a name are never changes."""
    from tests.counting_storage import CountingStorage

    storage = CountingStorage(LocalStorage(str(tmp_path / "store")))
    name = "4" * 64 + ".mp4"
    facts = MediaFacts(has_video=True, seconds=3.0)
    save_probe(storage, name, facts)
    assert [asset_facts(storage, name) for _ in range(3)] == [facts] * 3
    assert storage.gets == [probe_key(name)]
    other = CountingStorage(LocalStorage(str(tmp_path / "other")))
    assert asset_facts(other, name) is None  # another storage: its own records
