"""The studio end to end in headless Chromium (Debian's ``/usr/bin/chromium`` driven by
Playwright; no browser download): load a real multitrack, press "Mix it", play, move a fader,
accept and reject suggestions, comment, reload, download the master; and a 32-track mixer's
load time and fader-to-audible latency, printed. Screenshots go to out/studio-screenshots/."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import httpx
import pytest
import soundfile as sf
from studio_support import synthetic_stems

from signals import DATA_DIR

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "out" / "studio-screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

from mixwise.analysis.meters import integrated_loudness  # noqa: E402
from mixwise.studio import create_app  # noqa: E402
from mixwise.studio.server import serve_in_thread  # noqa: E402


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    ws = tmp_path_factory.mktemp("studio-ws")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server, thread, url = serve_in_thread(create_app(ws))
    yield url, ws
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def state(url: str, pid: str) -> dict:
    return httpx.get(f"{url}/api/projects/{pid}", timeout=10).json()


def poll(fn, timeout_s: float = 10.0, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every_s)
    pytest.fail("timed out waiting for the page")


def song_stems(tmp_path: Path) -> list[Path]:
    """The 6 s real excerpt of four stems, or generated stems when the data is absent."""
    real = DATA_DIR / "musdb_falcon69" / "stems"
    if real.is_dir():
        return sorted(real.iterdir())
    return synthetic_stems(tmp_path / "song", 4, seconds=5.0)


def song_reference(tmp_path: Path) -> Path:
    """The dataset's own human mix of the excerpt, or a generated stand-in."""
    real = DATA_DIR / "musdb_falcon69" / "mixture.flac"
    if real.is_file():
        return real
    stems = synthetic_stems(tmp_path / "ref", 4, seconds=5.0)
    audio = sum(sf.read(str(p), always_2d=True)[0] for p in stems)
    out = tmp_path / "reference.wav"
    sf.write(str(out), audio * 0.5, 44_100)
    return out


def test_mix_play_edit_suggest_comment_download(studio, browser, tmp_path):
    url, _ = studio
    page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#drop")
    shot(page, "01-start")

    # load the multitrack and press "Mix it"
    page.set_input_files("#pick-files", [str(p) for p in song_stems(tmp_path)])
    page.wait_for_selector("#mix-now", timeout=20_000)
    shot(page, "02-stems-ready")
    pid = page.evaluate("location.hash").split("/")[2]
    page.click("#mix-now")
    page.wait_for_selector("#progress")
    shot(page, "03-progress")
    page.wait_for_selector(".overview", timeout=60_000)
    page.wait_for_function("document.body.dataset.preview === 'ready'", timeout=20_000)
    page.wait_for_timeout(300)
    shot(page, "04-mix-result")

    # play: the transport moves
    page.click("#play-big")
    poll(lambda: page.evaluate("window.__mixwise.engine.time()") > 0.4, 5)
    assert page.evaluate("window.__mixwise.engine.playing")

    # move a fader by keyboard: 6 x 0.5 dB up; the saved session moves by exactly +3 dB
    page.click("#tabs button[data-view=mixer]")
    page.wait_for_function("document.body.dataset.mixer === 'ready'")
    track = state(url, pid)["session"]["tracks"][0]
    old = track["chain"]["fader_db"]
    fader = page.locator(f'.fader[data-fader="track:{track["id"]}"]')
    fader.focus()
    for _ in range(6):
        fader.press("ArrowUp")
    new = poll(
        lambda: (
            v
            if (v := state(url, pid)["session"]["tracks"][0]["chain"]["fader_db"]) != old
            else None
        ),
    )
    assert new == pytest.approx(old + 3.0, abs=1e-6)
    # the preview's gain for that stem is now +3 dB over the rendered level (1.4125 x)
    gain = page.evaluate(
        f"window.__mixwise.engine.strips.get('track:{track['id']}').gain.gain.value"
    )
    assert gain == pytest.approx(10 ** (3 / 20), rel=1e-3)
    lat = page.evaluate("window.__mixwise.engine.latency")
    if lat:
        print(f"\nfader key press on the real excerpt handled in {lat[-1]['handler_ms']:.1f} ms")
    page.wait_for_timeout(400)
    shot(page, "05-mixer")

    # "Render changes" makes the exact server render of the edit, and the preview reloads it
    assert state(url, pid)["needs_render"] is True
    page.click("#render-button")
    page.wait_for_function("document.body.dataset.mixer === 'ready'", timeout=30_000)
    poll(lambda: state(url, pid)["needs_render"] is False, 30)
    rendered = httpx.get(f"{url}/api/projects/{pid}/files/render/session.json").json()
    assert rendered["tracks"][0]["chain"]["fader_db"] == pytest.approx(old + 3.0, abs=1e-6)

    # the pictures and the A/B/C view
    page.click("#tabs button[data-view=look]")
    page.wait_for_selector("#p-spectrum")
    page.wait_for_timeout(300)
    shot(page, "06-look")
    page.click("#tabs button[data-view=listen]")
    page.click('.abc .src[data-src="raw"]')
    poll(lambda: page.evaluate("window.__mixwise.engine.mode") == "raw", 3)
    page.wait_for_timeout(300)
    shot(page, "07-listen-ab")
    page.click('.abc .src[data-src="live"]')

    # a reference track: C plays it; A, B and C are loudness-matched to the quietest
    ref = song_reference(tmp_path)
    page.set_input_files("#pick-reference", str(ref))
    page.wait_for_selector('.abc .src[data-src="ref"]:not(.off)', timeout=20_000)
    st = state(url, pid)
    lufs = {
        "raw": st["studio"]["raw_lufs"],
        "master": st["studio"]["master_lufs"],
        "ref": st["reference"]["lufs"],
    }
    gains = page.evaluate(
        "Object.fromEntries([...window.__mixwise.engine.abc].map(([k, v]) => [k, v.gainDb]))"
    )
    for k, value in lufs.items():
        assert gains[k] == pytest.approx(min(lufs.values()) - value, abs=1e-6), k
    page.click('.abc .src[data-src="ref"]')
    page.evaluate("window.__mixwise.variationsN = 2")
    page.click("#make-variations")
    page.wait_for_selector("[data-variation]", timeout=60_000)
    page.wait_for_timeout(300)
    shot(page, "07b-listen-reference-alternatives")
    page.click('.abc .src[data-src="live"]')

    # suggestions: mix again at the assist level, accept one and reject one
    page.select_option("#level", "assist")
    page.click("#mix-button")
    page.wait_for_selector("[data-proposal]", timeout=60_000)
    first = page.locator('.sg[data-status="pending"]').nth(0)
    n_acc = int(first.get_attribute("data-proposal"))
    first.locator("[data-accept]").click()
    page.wait_for_selector(f'.sg[data-proposal="{n_acc}"][data-status="applied"]')
    second = page.locator('.sg[data-status="pending"]').nth(0)
    n_rej = int(second.get_attribute("data-proposal"))
    second.locator("[data-reject]").click()
    page.wait_for_selector(f'.sg[data-proposal="{n_rej}"][data-status="rejected"]')
    statuses = {p["number"]: p["status"] for p in state(url, pid)["session"]["proposals"]}
    assert statuses[n_acc] == "applied" and statuses[n_rej] == "rejected"
    shot(page, "08-suggestions")

    # a comment pinned at 2.5 s survives a reload
    page.click("#tabs button[data-view=feedback]")
    page.fill("#comment-time", "0:02.5")
    page.fill("#comment-text", "vocal a touch too bright here")
    page.click("#add-comment")
    page.wait_for_selector("[data-comment]")
    page.reload()
    page.wait_for_selector("#comments [data-comment]")
    assert "vocal a touch too bright here" in page.inner_text("#comments")
    marker = [m for m in state(url, pid)["session"]["markers"] if m["kind"] == "comment"][-1]
    assert marker["time_s"] == pytest.approx(2.5)
    page.fill("#request-text", "a bit less reverb")
    page.click("#request-text + button")
    page.wait_for_selector("#requests [data-comment]")
    shot(page, "09-feedback")

    # download the master from the page and check its loudness
    page.click("#tabs button[data-view=mix]")
    page.wait_for_selector('.overview a[data-dl="master"]')
    with page.expect_download() as dl:
        page.click('.overview a[data-dl="master"]')
    path = dl.value.path()
    audio, rate = sf.read(str(path), always_2d=True)
    target = state(url, pid)["session"]["master"]["target_lufs"]
    assert integrated_loudness(audio.T, rate) == pytest.approx(target, abs=0.5)

    # the start page lists the saved session
    page.click("#home")
    page.wait_for_selector(f'[data-project="{pid}"]')
    shot(page, "11-start-with-sessions")
    assert not errors, errors
    page.close()


def big_session(stems: list[Path]):
    """A processed 32-track session (EQ, compressor, sends, pans, two buses) over ``stems``,
    as a saved session file would hold it (no analysis needed: the test is about the page)."""
    from mixwise.roles import colour_of
    from mixwise.session import model as m

    roles = ["kick", "bass", "piano", "hihat"]
    tracks = []
    for i, p in enumerate(stems):
        role = roles[i % 4]
        chain = m.Chain(
            high_pass=m.Filter(enabled=True, freq_hz=30.0 + 5 * i),
            eq=[
                m.EQBand(type="peak", freq_hz=200.0 + 40 * i, gain_db=-3.0, q=1.2),
                m.EQBand(type="high_shelf", freq_hz=6000.0, gain_db=2.0),
            ],
            compressor=m.Compressor(enabled=True, threshold_db=-24.0, ratio=3.0),
            fader_db=-6.0 - (i % 5),
            pan=((i % 7) - 3) / 4,
            sends=[m.Send(bus="reverb", level_db=-20.0)],
        )
        tracks.append(
            m.Track(
                id=f"t{i:02d}",
                name=p.stem,
                source=m.SourceFile(path=p.name, sample_rate=44_100, channels=2),
                role=role,
                colour=colour_of(role),
                bus="drums" if role in ("kick", "hihat") else None,
                chain=chain,
            )
        )
    return m.Session(
        name="32 tracks",
        sample_rate=44_100,
        length_s=2.0,
        tracks=tracks,
        buses=[
            m.Bus(id="drums", name="Drums", kind="group"),
            m.Bus(id="reverb", name="Reverb", kind="aux", effect=m.Reverb()),
        ],
    )


def test_32_track_mixer_loads_fast_and_a_fader_is_heard_at_once(studio, browser, tmp_path):
    from mixwise.session.io import session_to_json

    url, _ = studio
    stems = synthetic_stems(tmp_path / "big", 32, seconds=2.0)
    h = {"X-Mixwise": "1"}
    api = f"{url}/api/projects"
    pid = httpx.post(api, json={"name": "32 tracks"}, headers=h).json()["project"]["id"]
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in stems]
    assert httpx.post(f"{api}/{pid}/stems", files=files, headers=h).status_code == 200
    text = session_to_json(big_session(stems)).encode()
    res = httpx.post(f"{api}/{pid}/session-file", files=[("f", ("s.json", text))], headers=h)
    assert res.status_code == 200, res.text
    job = httpx.post(f"{api}/{pid}/render", json={}, headers=h, timeout=30).json()["job"]
    poll(lambda: state(url, pid)["job"] is None, 60, 0.2)
    assert httpx.get(f"{url}/api/jobs/{job['id']}").json()["state"] == "done"

    page = browser.new_page(viewport={"width": 1680, "height": 950})
    t0 = time.perf_counter()
    page.goto(f"{url}/#/project/{pid}/mixer")
    page.wait_for_function("document.body.dataset.mixer === 'ready'", timeout=10_000)
    load_s = time.perf_counter() - t0
    assert page.locator(".strip[data-key^='track:']").count() == 32
    drawn = page.evaluate("window.__mixwise.timings.mixer_render_ms")
    print(
        f"\n32-track mixer: ready {load_s * 1000:.0f} ms after navigation "
        f"(strips and EQ curves drawn in {drawn:.0f} ms)"
    )
    assert load_s < 2.0
    page.wait_for_function("document.body.dataset.preview === 'ready'", timeout=20_000)
    print(
        f"32 processed stems decoded for the preview in "
        f"{page.evaluate('window.__mixwise.timings.preview_ready_ms'):.0f} ms"
    )
    page.evaluate("window.__mixwise.engine.play(0.1)")
    page.wait_for_timeout(400)
    fader = page.locator('.fader[data-fader="track:t01"]')  # a steady bass line
    fader.focus()
    for _ in range(3):
        fader.press("PageDown")  # -3 dB
        page.wait_for_timeout(250)
    lat = poll(
        lambda: v if len(v := page.evaluate("window.__mixwise.engine.latency")) >= 3 else None, 3
    )
    for e in lat:
        assert e["heard"] and e["expected_db"] == pytest.approx(-3.0, abs=0.01)
    heard = sorted(e["audible_ms"] for e in lat)
    handler = sorted(e["handler_ms"] for e in lat)
    base = lat[-1]["base_latency_ms"] + lat[-1]["output_latency_ms"]
    print(
        f"fader -3 dB x3 on a playing 32-track mix: input handled in {handler[1]:.1f} ms "
        f"(median; max {handler[-1]:.1f}), level change seen at the strip after "
        f"{heard[1]:.1f} ms (median; max {heard[-1]:.1f}), + {base:.1f} ms AudioContext "
        f"base + output latency"
    )
    assert heard[1] < 150 and heard[-1] < 500  # generous: the machine is shared
    page.wait_for_timeout(200)
    shot(page, "10-mixer-32-tracks")
    page.close()
