"""Track role labelling: which role (kick, bass, lead vocal ...) each stem plays in the song.

Two kinds of evidence, combined:

* the **file name**, cut into words (numbered prefixes, separators ``_ - . space`` and camelCase)
  and matched word by word against a table of the abbreviations engineers use, in English,
  German, French, Spanish, Italian and Portuguese (``Kick In``, ``BD``, ``Snr Top``, ``OH L``,
  ``Ld Vox``, ``BGV``, ``Gtr DI``, ``Pno``, ``Gesang``, ``batterie``, ``chitarra`` ...);
* the **audio**, summarised by :func:`audio_features` (spectral centroid and band shares,
  cymbal-like noise, envelope decay and crest, pitch periodicity, pitch glide and jitter,
  activity, stereo width) and read by a short list of hand-written rules with thresholds in
  physical units (:func:`_classify_audio`). Nothing is downloaded or learned at run time.

A confident name wins; an ambiguous name ("Lead", "Texture", "Noise") is settled by the audio;
a name that says nothing ("Audio 07", "track01") leaves the audio alone, at a lower confidence.
:func:`label_tracks` adds what one track cannot know alone: of several vocals, the loudest and
most present one is the lead.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mixwise.errors import ParameterError
from mixwise.roles import ROLE_FAMILY, family_of

__all__ = [
    "FEATURE_NAMES",
    "NAME_CONFIDENT",
    "RoleGuess",
    "audio_features",
    "guess_role",
    "guess_role_from_name",
    "label_from_features",
    "label_tracks",
]


@dataclass(frozen=True)
class RoleGuess:
    """A role for one stem, with how sure the guess is and what it rests on.

    ``role`` is one of :data:`mixwise.roles.ROLES`; ``family`` its family;
    ``confidence`` in [0, 1]; ``source`` is ``"name"``, ``"audio"`` or ``"name+audio"``;
    ``evidence`` holds the name words matched (``name_words``) and the audio features used,
    with their unit in the key (``centroid_hz``, ``low_share``, ``decay_db`` ...).
    """

    role: str
    family: str
    confidence: float
    source: str
    evidence: dict[str, float | str] = field(default_factory=dict)


# ============================================================================================
# names

#: How much one name word says about the role.
_SURE = 0.95  # unambiguous: "kick", "snare", "bgv", "klavier"
_LIKELY = 0.8  # usually right: "drums", "beat", "str", "sub"
_HINT = 0.45  # a hint the audio may overrule: "lead", "texture", "noise", "fill"
#: A name guess at least this confident is taken without asking the audio.
NAME_CONFIDENT = 0.7

# Internal pseudo-roles, resolved with the qualifiers found in the same name.
_VOCAL = "_vocal"  # lead or backing
_GUITAR = "_guitar"  # electric or acoustic


def _words(strength: float, role: str, *words: str) -> dict[str, tuple[str, float]]:
    return {w: (role, strength) for w in words}


#: Name word (lower case, accents removed) -> (role, strength). Two-word names ("hi hat",
#: "bass drum", "e piano", "grosse caisse") are listed glued together: adjacent words are
#: tried as a pair first.
_NAME_WORDS: dict[str, tuple[str, float]] = {
    # --- drums
    **_words(_SURE, "kick", "kick", "kik", "kck", "kd", "bd", "bassdrum", "kickdrum", "subkick",
             "bombo", "cassa", "grancassa", "grossecaisse", "basstrommel", "grosstrommel",
             "kicks"),
    **_words(_SURE, "snare", "snare", "snr", "sn", "sd", "snares", "snaredrum", "rullante",
             "redoblante", "caisseclaire", "kleinetrommel", "sidestick", "rimshot"),
    **_words(_LIKELY, "snare", "caja", "rim"),
    **_words(_SURE, "toms", "tom", "toms", "tomtom", "floortom", "racktom", "hitom", "lowtom",
             "midtom", "tomhi", "tomlow", "tommid"),
    **_words(_LIKELY, "toms", "ft", "rack", "floor"),
    **_words(_SURE, "hihat", "hihat", "hihats", "hh", "hhat", "hat", "hats", "charleston",
             "hatpedal"),
    **_words(_SURE, "cymbals", "cymbal", "cymbals", "cym", "cyms", "crash", "ride", "splash",
             "china", "overhead", "overheads", "oh", "ohs", "ovh", "ovhd", "becken", "piatti",
             "platillos", "platos", "cymbale", "cymbales", "prato", "pratos"),
    **_words(_SURE, "room", "room", "rooms", "raum"),
    **_words(_LIKELY, "room", "amb", "ambience", "ambiance", "ambiente", "trash"),
    **_words(_SURE, "percussion", "perc", "percs", "percussion", "percussions", "shaker",
             "shakers", "tamb", "tambourine", "tamburin", "tambourin", "pandeiro", "pandereta",
             "conga", "congas", "bongo", "bongos", "cajon", "clap", "claps", "handclap",
             "handclaps", "snap", "snaps", "cowbell", "clave", "claves", "guiro", "triangle",
             "cabasa", "timbales", "djembe", "tabla", "woodblock", "percusion", "percussioni",
             "schellenkranz"),
    **_words(_LIKELY, "drum_loop", "drums", "drum", "drm", "drms", "kit", "drumkit", "loop",
             "loops", "drumloop", "beat", "beats", "break", "breaks", "breakbeat", "groove",
             "schlagzeug", "batterie", "bateria", "batteria", "trommel", "trommeln"),
    **_words(_HINT, "drum_loop", "fill", "fills", "build"),
    # --- bass
    **_words(_SURE, "bass", "bass", "bs", "bassdi", "bassamp", "subbass", "bassline", "bajo",
             "basso", "basse", "baixo", "contrabass", "kontrabass", "doublebass", "synthbass",
             "basses", "e-bass", "ebass"),
    **_words(_LIKELY, "bass", "sub", "bas", "upright"),
    # --- guitars
    **_words(_SURE, _GUITAR, "guitar", "guitars", "gtr", "gtrs", "guit", "git", "gitarre",
             "gitarren", "guitare", "guitares", "guitarra", "guitarras", "chitarra", "chitarre",
             "gitaar"),
    **_words(_LIKELY, _GUITAR, "gt", "gtar"),
    **_words(_SURE, "electric_guitar", "egtr", "egit", "egitarre", "eguitar", "elgtr",
             "chitarraelettrica"),
    **_words(_SURE, "acoustic_guitar", "acgtr", "agtr", "acousticguitar", "akustikgitarre",
             "violao", "ukulele", "uke", "banjo", "mandolin", "mandoline", "mandolino", "nylon",
             "dobro"),
    **_words(_HINT, "acoustic_guitar", "acoustic", "akustik"),
    # --- keys
    **_words(_SURE, "piano", "piano", "pno", "pianos", "klavier", "flugel", "pianoforte",
             "grandpiano"),
    **_words(_LIKELY, "piano", "pn", "grand"),
    **_words(_SURE, "keys", "keys", "keyboard", "keyboards", "kbd", "kbds", "kb", "epiano",
             "rhodes", "wurli", "wurlitzer", "organ", "organs", "orgel", "orgue", "organo",
             "hammond", "clav", "clavinet", "clavier", "claviers", "teclado", "teclados",
             "tastiera", "tastiere", "mellotron", "celesta", "vibes", "vibraphone", "marimba",
             "xylophone", "glock", "glockenspiel", "harpsichord", "cembalo", "tasten"),
    **_words(_LIKELY, "keys", "org", "ep"),
    # --- other (synths, pads, strings, brass)
    **_words(_SURE, "synth", "synth", "synths", "syn", "synthesizer", "synthesiser",
             "synthe", "minilogue", "moog", "arp", "arps", "arpeggio", "arpeggiator"),
    **_words(_LIKELY, "synth", "pluck", "plucks", "seq", "sequence", "sequencer", "saw",
             "square", "sine", "stab", "stabs"),
    **_words(_HINT, "synth", "melody", "hook", "riff"),
    **_words(_SURE, "pad", "pad", "pads", "drone", "drones", "flache", "flachen"),
    **_words(_LIKELY, "pad", "atmo", "atmos", "atmosphere"),
    **_words(_HINT, "pad", "texture", "textures", "ambient", "swell"),
    **_words(_SURE, "strings", "strings", "string", "str", "strs", "stgs", "violin", "violins",
             "vln", "vlns", "viola", "violas", "vla", "cello", "cellos", "celli", "vc", "vlc",
             "harp", "orchestra", "orch", "quartet", "streicher", "geige", "geigen", "cordes",
             "violon", "violons", "violoncelle", "cuerdas", "archi", "violino", "violini",
             "violoncello", "bratsche"),
    **_words(_SURE, "brass_winds", "brass", "horns", "horn", "hrn", "trumpet", "trumpets",
             "tpt", "tpts", "trp", "trombone", "trombones", "tbn", "trb", "tuba", "sax",
             "saxes", "saxophone", "tenorsax", "altosax", "barisax", "flute", "flutes",
             "piccolo", "clarinet", "clarinets", "oboe", "bassoon", "fagott", "winds",
             "woodwinds", "blaser", "trompete", "posaune", "saxophon", "querflote", "cuivres",
             "trompette", "metales", "vientos", "trompeta", "ottoni", "fiati", "tromba",
             "harmonica", "flugelhorn", "cornet", "euphonium", "klarinette"),
    # --- vocals
    **_words(_SURE, _VOCAL, "vox", "vocal", "vocals", "voc", "vocs", "vcl", "vcls", "vx",
             "voice", "voices", "singer", "sing", "gesang", "stimme", "stimmen", "voix", "chant",
             "voz", "voces", "voce", "voci", "zang", "rap", "vocalist"),
    **_words(_SURE, "lead_vocal", "lv", "lvox", "leadvox", "leadvocal", "leadvocals",
             "hauptstimme", "leadgesang", "leadvoc", "ldvox", "mainvox"),
    **_words(_SURE, "backing_vocal", "bgv", "bgvs", "bgvox", "bgvoc", "bv", "bvs", "bvox",
             "bkv", "backing", "backings", "backvox", "backvocals", "choir", "choirs", "chor",
             "chore", "coro", "cori", "coros", "choeur", "choeurs", "harmony", "harmonies",
             "backgroundvocals", "bgvocals", "adlib", "adlibs", "ooh", "oohs", "aah", "aahs",
             "chorgesang"),
    **_words(_HINT, "backing_vocal", "chorus"),
    # --- fx and other
    **_words(_SURE, "fx", "fx", "sfx", "efx", "effect", "effects", "riser", "risers", "sweep",
             "sweeps", "impact", "impacts", "whoosh", "uplifter", "downlifter", "foley",
             "reverb", "verb", "delay", "dly", "vinyl", "crackle", "transition", "effekt",
             "effekte", "efecto", "efectos", "effetto", "effetti"),
    **_words(0.7, "fx", "scratch", "glitch", "reverse"),
    **_words(_HINT, "fx", "noise"),
    **_words(_SURE, "other", "click", "metronome", "clicktrack"),
    **_words(_HINT, "other", "song", "band", "rest", "other", "playback", "instrumental",
             "inst", "mix"),
}  # fmt: skip

#: Words that qualify a vocal or guitar ("Ld Vox", "Ac Gtr"); on their own they say little.
_QUALIFIERS: dict[str, str] = {
    **dict.fromkeys(("lead", "ld", "main", "haupt", "principal", "solo", "lv"), "lead"),
    **dict.fromkeys(
        ("back", "bg", "bgd", "bk", "bck", "bkg", "harm", "harms", "double", "dbl", "dbls",
         "doubles", "background", "backing", "backings", "bgv", "bv", "chorus", "ad"),
        "backing",
    ),
    **dict.fromkeys(
        ("ac", "acc", "acou", "acous", "acoustic", "akustik", "acustica", "acustico",
         "acoustique", "unplugged", "nylon", "steel", "folk", "western", "klassik"),
        "acoustic",
    ),
    **dict.fromkeys(
        ("e", "el", "elec", "electric", "elektrisch", "electrique", "electrica", "elettrica",
         "dist", "distorted", "crunch", "clean", "di", "amp", "rhythm", "rhy", "rhythmus"),
        "electric",
    ),
}  # fmt: skip

#: A name word alone that is only a hint for a role (e.g. "Lead" -> lead vocal or a lead synth).
_QUALIFIER_ALONE: dict[str, tuple[tuple[str, float], ...]] = {
    "lead": (("lead_vocal", _HINT), ("synth", 0.4)),
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words that carry no role (positions, mics, takes); known so that glued names split cleanly.
_NEUTRAL = _wordset(
    """in out top bottom bot btm up down under over inside outside l r left right lt rt st
    stereo mono m s mid side hi high low lo open opened closed close far near mic mics dry wet
    alt take tk comp print bus buss group grp stem stems new final edit copy v ver pre post
    hard soft slap ghost roll sample one two hit hits short long big small wide ogg wav flac
    mp3 aif aiff aifc bwf oga wave"""
)

_AUDIO_SUFFIX = re.compile(r"\.(wav|wave|bwf|flac|aif|aiff|aifc|ogg|oga|mp3|m4a|caf|w64)$", re.I)


def _name_tokens(name: str, *, camel: bool = True) -> list[str]:
    """Lower-case words of a track name: no extension, accents, separators or numbers.

    With ``camel``, "LeadVox" and "BGVox" are two words each.
    """
    base = re.split(r"[\\/]", name)[-1]
    base = _AUDIO_SUFFIX.sub("", base)
    base = base.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("ß", "ss")
    base = unicodedata.normalize("NFKD", base)
    base = "".join(c for c in base if not unicodedata.combining(c))
    if camel:
        base = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base)
        base = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z]{2,})", " ", base)  # "BGVox" -> "BG Vox"
    base = re.sub(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", base)
    return [t for t in re.split(r"[^a-z0-9]+", base.lower()) if t and not t.isdigit()]


def _is_known(word: str) -> bool:
    return word in _NAME_WORDS or word in _QUALIFIERS or word in _NEUTRAL


def _lookup(word: str) -> tuple[str, float] | None:
    if word in _NAME_WORDS:
        return _NAME_WORDS[word]
    if len(word) > 3 and word.endswith("s") and word[:-1] in _NAME_WORDS:
        return _NAME_WORDS[word[:-1]]
    return None


def _split_glued(word: str, depth: int = 0) -> list[str] | None:
    """``"bassslap"`` -> ``["bass", "slap"]``: a word glued from known words, else ``None``."""
    if depth > 2:
        return None
    for cut in range(len(word) - 1, 1, -1):
        head, tail = word[:cut], word[cut:]
        if not (_is_known(head) or _lookup(head)):
            continue
        if len(tail) >= 2 and (_is_known(tail) or _lookup(tail)):
            return [head, tail]
        if tail in ("l", "r") and len(head) <= 3:  # "OHL", "GtrR"; not "Rider"
            return [head, tail]
        rest = _split_glued(tail, depth + 1)
        if rest:
            return [head, *rest]
    return None


def _name_scores(name: str) -> tuple[dict[str, float], list[str], set[str]]:
    """Role -> strength in [0, 1] from the words of ``name``; also the words and qualifiers."""
    found = _scores_of_tokens(_name_tokens(name))
    if not found[0]:
        found = _scores_of_tokens(_name_tokens(name, camel=False))  # "sNaRe", "KIck"
    return found


def _scores_of_tokens(tokens: list[str]) -> tuple[dict[str, float], list[str], set[str]]:
    words: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in _NAME_WORDS:
            words.append(tokens[i] + tokens[i + 1])
            i += 2
            continue
        t = tokens[i]
        if _is_known(t) or _lookup(t):
            words.append(t)
        else:
            words.extend(_split_glued(t) or [t])
        i += 1

    scores: dict[str, float] = {}
    matched: list[str] = []
    qualifiers: set[str] = set()
    for w in words:
        hit = _lookup(w)
        if w in _QUALIFIERS:
            qualifiers.add(_QUALIFIERS[w])
        if hit is not None:
            role, strength = hit
            scores[role] = max(scores.get(role, 0.0), strength)
            matched.append(w)
    if not scores:
        for w in words:
            for role, strength in _QUALIFIER_ALONE.get(w, ()):
                scores[role] = max(scores.get(role, 0.0), strength)
            if w in _QUALIFIER_ALONE:
                matched.append(w)
    return _resolve(scores, qualifiers), matched, qualifiers


def _resolve(scores: dict[str, float], qualifiers: set[str]) -> dict[str, float]:
    """Turn pseudo-roles into roles and let the more specific word win over the generic one."""
    s = dict(scores)
    if s and max(s.values()) >= _SURE:
        s = {r: v for r, v in s.items() if v > _HINT}  # "Snare acoustic": no guitar hint
    if _VOCAL in s:
        v = s.pop(_VOCAL)
        if "backing" in qualifiers:
            s["backing_vocal"] = max(s.get("backing_vocal", 0.0), v)
        elif "lead" in qualifiers or "lead_vocal" in s or "backing_vocal" in s:
            key = "backing_vocal" if "backing_vocal" in s else "lead_vocal"
            s[key] = max(s.get(key, 0.0), v)
        else:
            s["lead_vocal"] = max(s.get("lead_vocal", 0.0), 0.85 * v)
    if _GUITAR in s:
        g = s.pop(_GUITAR)
        acoustic = "acoustic" in qualifiers or "acoustic_guitar" in s
        key = "acoustic_guitar" if acoustic and "electric" not in qualifiers else "electric_guitar"
        s[key] = max(s.get(key, 0.0), g if (acoustic or "electric" in qualifiers) else 0.9 * g)
    if "acoustic_guitar" in s and "electric_guitar" in s:
        s.pop("electric_guitar")
    if "bass" in s and s.get("brass_winds", 0.0) >= s["bass"]:
        s.pop("bass")  # "Bass Clarinet"
    if "bass" in s:
        # "Bass Gtr", "Synth Bass", "Bass DI": the bass
        for generic in ("electric_guitar", "acoustic_guitar", "synth", "strings", "pad"):
            if s.get(generic, 0.0) <= s["bass"]:
                s.pop(generic, None)
    specific = [r for r in ("kick", "snare", "toms", "hihat", "cymbals", "room", "percussion")
                if s.get(r, 0.0) >= _LIKELY]  # fmt: skip
    if specific:
        s.pop("drum_loop", None)  # "Drums Kick", "Drum OH": the piece, not the kit
    if "pad" in s and "synth" in s:
        s.pop("synth")  # "Synth Pad"
    if "piano" in s and "keys" in s and s["piano"] >= s["keys"]:
        s.pop("keys")  # "Keys Piano"
    if "backing_vocal" in s and "lead_vocal" in s:
        s.pop("lead_vocal")  # "Lead Vox Dbl" is a double of the lead
    return s


def _confidence_from_scores(scores: dict[str, float]) -> tuple[str, float]:
    """Best role and its confidence: its strength, lowered by a rival from another family."""
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    role, top = ranked[0]
    rival = max((v for r, v in ranked[1:] if family_of(r) != family_of(role)), default=0.0)
    return role, float(max(0.05, top - 0.5 * rival))


def guess_role_from_name(name: str) -> RoleGuess | None:
    """The role that the track name ``name`` states, or ``None`` when it states none.

    ``name`` is a file or track name, with or without folder and extension
    (``"07 - Ld Vox.wav"``, ``"KickIn"``, ``"Gitarre_links"``). Words match whole, never inside
    other words ("bass" does not fire in "bassdrum", which is a kick), in any case, after
    numbered prefixes and separators are removed. Names like ``"Audio 07"`` give ``None``.
    """
    return _name_guess(name)[0]


def _name_guess(name: str) -> tuple[RoleGuess | None, dict[str, float]]:
    """The name's guess and all the roles it allows, with their strengths."""
    scores, matched, qualifiers = _name_scores(name)
    if not scores:
        return None, scores
    role, conf = _confidence_from_scores(scores)
    evidence: dict[str, float | str] = {"name_words": " ".join(matched)}
    if role == "backing_vocal":
        evidence["vocal_part"] = "backing"
    elif role == "lead_vocal":
        explicit = "lead" in qualifiers or any(_lookup(w) == ("lead_vocal", _SURE) for w in matched)
        evidence["vocal_part"] = "lead" if explicit else "unspecified"
    return RoleGuess(role, family_of(role), round(conf, 3), "name", evidence), scores


# ============================================================================================
# audio features

_FRAME_S = 0.046  # analysis frame (s), rounded up to a power of two in samples
_MAX_SPECTRAL_FRAMES = 600  # spectra averaged per track, spread evenly over its active part
_BLOCK_S = 0.005  # envelope block (s)
_GATE_BELOW_LOUD_DB = 40.0  # frames this far below the track's loud level count as silent
_ABS_GATE_DBFS = -70.0
_F0_MIN_HZ = 40.0
_F0_MAX_HZ = 1000.0
_PITCH_RATE_HZ = 16_000  # pitch is tracked on a decimated copy at about this rate
_PITCH_SEGMENTS = 16  # ... in this many excerpts
_PITCH_SEGMENT_S = 0.8  # ... of this length (s)
_PITCH_HOP_S = 0.02
_VOICED_NCCF = 0.75  # normalised autocorrelation above which a frame counts as pitched


#: The keys of :func:`audio_features`, in order.
FEATURE_NAMES: tuple[str, ...] = (
    "duration_s", "active_share", "level_dbfs", "crest_db", "side_share", "centroid_hz",
    "sub_share", "low_share", "high_share", "flatness", "noisy_share", "env_crest_db",
    "onset_rate_hz", "decay_db", "periodicity", "voiced_share", "f0_hz", "f0_range_st",
    "pitch_jitter_cents", "pitch_glide_cents", "pitch_grid_r",
)  # fmt: skip


def _power_db(x: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(x, 1e-20))


def _evenly(idx: np.ndarray, n: int) -> np.ndarray:
    """At most ``n`` items of ``idx``, spread evenly over it."""
    if idx.size <= n:
        return idx
    return idx[np.linspace(0, idx.size - 1, n).round().astype(int)]


def _pitch_track(
    mono: np.ndarray, sample_rate: int, centres: np.ndarray, gate_power: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pitch of short excerpts around ``centres`` (samples) of ``mono``.

    Returns per frame (20 ms hop, only frames above ``gate_power``, mean square): the peak
    normalised autocorrelation in [0, 1], the f0 in Hz (the shortest lag whose peak reaches 90 %
    of the best one, refined by a parabola), and the excerpt index.
    """
    from scipy import fft as sfft

    q = max(1, round(sample_rate / _PITCH_RATE_HZ))
    rate = sample_rate / q
    n_p = 1 << int(np.ceil(np.log2(2.0 * rate / _F0_MIN_HZ)))
    hop = round(_PITCH_HOP_S * rate)
    seg_len = int(_PITCH_SEGMENT_S * sample_rate)
    tau_min = max(2, int(rate / _F0_MAX_HZ))
    tau_max = int(np.ceil(rate / _F0_MIN_HZ))
    n_total = mono.shape[0]
    seg_len = min(seg_len, n_total) // q * q
    if seg_len < n_p * q:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
    starts = np.unique(np.clip(centres.astype(int) - seg_len // 2, 0, n_total - seg_len))
    segs = mono[starts[:, None] + np.arange(seg_len)]
    if q > 1:  # decimate by cutting the spectrum (an ideal low-pass at the new Nyquist)
        short = seg_len // q
        spec = sfft.rfft(segs, axis=1)[:, : short // 2 + 1]
        segs = sfft.irfft(spec, n=short, axis=1) * np.float32(1.0 / q)
    n = 1 + (segs.shape[1] - n_p) // hop
    idx = np.arange(n_p)[None, :] + hop * np.arange(n)[:, None]
    pf = segs[:, idx].reshape(-1, n_p)
    sid = np.repeat(np.arange(starts.size), n)
    pf = pf - pf.mean(axis=1, keepdims=True)
    spec = sfft.rfft(pf, n=2 * n_p, axis=1)
    acf = sfft.irfft(spec.real**2 + spec.imag**2, axis=1)[:, : tau_max + 2].astype(np.float64)
    # energies of the two overlapping parts x[0:N-tau] and x[tau:N], for the normalisation
    cum = np.cumsum(pf.astype(np.float64) ** 2, axis=1)
    taus = np.arange(tau_max + 2)
    e_head = cum[:, n_p - 1 - taus]
    e_tail = cum[:, -1:] - np.concatenate([np.zeros((pf.shape[0], 1)), cum[:, taus[1:] - 1]], 1)
    rho = acf / np.sqrt(e_head * e_tail + 1e-30)
    loud = cum[:, -1] / n_p > gate_power
    mid = rho[:, tau_min : tau_max + 1]
    is_peak = (mid > rho[:, tau_min - 1 : tau_max]) & (mid >= rho[:, tau_min + 1 : tau_max + 2])
    peaks = np.where(is_peak, mid, -1.0)
    best = peaks.max(axis=1)
    t = np.argmax(peaks >= 0.9 * best[:, None], axis=1) + tau_min
    rows = np.arange(t.size)
    y0, y1, y2 = rho[rows, t - 1], rho[rows, t], rho[rows, t + 1]
    den = y0 - 2.0 * y1 + y2
    shift = np.where(np.abs(den) > 1e-12, 0.5 * (y0 - y2) / np.where(den == 0, 1.0, den), 0.0)
    f0 = rate / (t + np.clip(shift, -0.5, 0.5))
    return np.clip(best, 0.0, 1.0)[loud], f0[loud], sid[loud]


def audio_features(audio: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Numbers that describe what kind of source a stem is.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_channels, n_samples) or (n_samples,)], float, 1 or 2 channels
    sample_rate : Hz

    Returns
    -------
    dict with, measured over the *active* part of the track (frames within 40 dB of its loud
    level and above -70 dBFS):

    ``duration_s``; ``active_share`` (0-1, of 46 ms frames); ``level_dbfs`` (mean power);
    ``crest_db`` (sample peak over mean power); ``side_share`` (0-1, side energy over total;
    0 for mono); ``centroid_hz`` (of the long-term spectrum); ``sub_share``, ``low_share``,
    ``high_share`` (0-1, spectral energy below 60 Hz, below 150 Hz, above 5 kHz);
    ``flatness`` (0-1, median spectral flatness 100 Hz-12 kHz); ``noisy_share`` (0-1, frames
    that are noise-like above 3 kHz: cymbals, hats); ``env_crest_db`` (97th minus 50th
    percentile of the 5 ms envelope); ``onset_rate_hz`` (onsets per active second);
    ``decay_db`` (median fall of the envelope from an onset's peak, within its first 30 ms,
    to 150 ms after the onset); ``periodicity``
    (0-1, median normalised autocorrelation peak); ``voiced_share`` (0-1, pitched frames);
    ``f0_hz`` (median pitch of pitched frames); ``f0_range_st`` (10th-90th percentile, semitones);
    ``pitch_jitter_cents`` (median pitch change between 20 ms frames within a note: voices
    wobble, synths and fretted notes do not); ``pitch_glide_cents`` (the same without the
    within-note limit: kick and tom pitch falls); ``pitch_grid_r`` (0-1, how tightly pitches
    sit on one equal-tempered grid).

    Pure: ``audio`` is not modified. Analyses at most about 28 s of spectra and 13 s of pitch
    excerpts, so the cost hardly grows with the length of the track.
    """
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise ParameterError(f"audio must have shape (1 or 2, n_samples), got {x.shape}")
    if sample_rate <= 0:
        raise ParameterError(f"sample_rate must be positive, got {sample_rate}")
    sr = int(sample_rate)
    n_fft = 1 << int(np.ceil(np.log2(_FRAME_S * sr)))
    n_given = x.shape[1]
    if n_given < 2 * n_fft:
        x = np.pad(x, ((0, 0), (0, 2 * n_fft - n_given)))  # a copy; the input stays as it is
    mono = _downmix(x)
    n_total = mono.shape[0]
    n_frames = n_total // n_fft
    feats: dict[str, float] = {"duration_s": n_given / sr}

    frames = mono[: n_frames * n_fft].reshape(n_frames, n_fft)
    frame_power = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / n_fft
    frame_db = _power_db(frame_power)
    above = frame_db[frame_db > _ABS_GATE_DBFS]
    if above.size == 0:
        return _silent_features(feats)
    loud_db = float(np.percentile(above, 95))
    gate_db = max(loud_db - _GATE_BELOW_LOUD_DB, _ABS_GATE_DBFS)
    active = np.flatnonzero(frame_db > gate_db)
    feats["active_share"] = active.size / n_frames
    mean_power = float(frame_power[active].mean())
    feats["level_dbfs"] = float(_power_db(mean_power))
    peak = max(float(mono.max()), -float(mono.min()))
    feats["crest_db"] = float(20.0 * np.log10(max(peak, 1e-10)) - _power_db(mean_power))

    if x.shape[0] == 2:
        pick = _evenly(active, 300)
        both = x[:, : n_frames * n_fft].reshape(2, n_frames, n_fft)[:, pick].astype(np.float64)
        side, mid = both[0] - both[1], both[0] + both[1]
        e_side, e_mid = float(np.sum(side * side)), float(np.sum(mid * mid))
        feats["side_share"] = e_side / max(e_mid + e_side, 1e-20)
    else:
        feats["side_share"] = 0.0

    feats.update(_spectral_features(frames[_evenly(active, _MAX_SPECTRAL_FRAMES)], sr))
    feats.update(_envelope_features(mono, sr, gate_db, loud_db, active.size * n_fft / sr))

    centres = (_evenly(active, _PITCH_SEGMENTS) + 0.5) * n_fft
    feats.update(_pitch_features(*_pitch_track(mono, sr, centres, 10.0 ** (gate_db / 10.0))))
    return {k: feats[k] for k in FEATURE_NAMES}


def _downmix(x: np.ndarray) -> np.ndarray:
    """A new float32 mono signal: the channel mean, or the side signal when the channels
    cancel (a stem with one channel polarity-inverted)."""
    first = x[0].astype(np.float32)  # always a copy: the caller's array is never touched
    if x.shape[0] == 1:
        return first
    mono = (first + x[1]) * np.float32(0.5)
    e_mono, e_first = float(np.dot(mono, mono)), float(np.dot(first, first))
    if e_mono < 0.01 * e_first:
        mono = (first - x[1]) * np.float32(0.5)
    return mono


def _silent_features(feats: dict[str, float]) -> dict[str, float]:
    return {**dict.fromkeys(FEATURE_NAMES, 0.0), "level_dbfs": -200.0, **feats}


def _spectral_features(frames: np.ndarray, sr: int) -> dict[str, float]:
    from scipy import fft as sfft

    n_fft = frames.shape[1]
    spec = sfft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1)[:, 1:]  # no DC
    power = spec.real**2 + spec.imag**2  # float32
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)[1:]
    ltas = power.mean(axis=0, dtype=np.float64)
    total = float(ltas.sum()) + 1e-30
    flat = _flatness(power[:, (freqs >= 100) & (freqs <= 12_000)])
    # "noisy" frames: at least a quarter of their energy above 3 kHz, and noise-like there
    high = (freqs >= 3000) & (freqs <= 16_000)
    high_part = power[:, high].sum(axis=1) / (power.sum(axis=1) + 1e-30)
    candidates = np.flatnonzero(high_part >= 0.25)
    n_noisy = int(np.sum(_flatness(power[candidates][:, high]) >= 0.25)) if high.any() else 0
    return {
        "centroid_hz": float((ltas * freqs).sum() / total),
        "sub_share": float(ltas[freqs < 60].sum() / total),
        "low_share": float(ltas[freqs < 150].sum() / total),
        "high_share": float(ltas[freqs >= 5000].sum() / total),
        "flatness": float(np.median(flat)),
        "noisy_share": n_noisy / frames.shape[0],
    }


def _flatness(power: np.ndarray) -> np.ndarray:
    """Spectral flatness per row (geometric over arithmetic mean), 0 (tone) to ~0.56 (noise)."""
    p = power + np.float32(1e-20)
    return np.exp(np.mean(np.log(p), axis=1)) / (np.mean(p, axis=1) + 1e-30)


def _envelope_features(
    mono: np.ndarray, sr: int, gate_db: float, loud_db: float, active_s: float
) -> dict[str, float]:
    nb = max(round(_BLOCK_S * sr), 1)
    n_blocks = mono.shape[0] // nb
    blocks = mono[: n_blocks * nb].reshape(n_blocks, nb)
    env_db = np.maximum(_power_db(np.einsum("ij,ij->i", blocks, blocks) / nb), loud_db - 60.0)
    on_blocks = env_db > gate_db
    if on_blocks.sum() > 10:
        lo, hi = np.percentile(env_db[on_blocks], [50, 97])
        env_crest = float(hi - lo)
    else:
        env_crest = 0.0
    # onsets: a rise of 10 dB over the quietest block of the previous 20 ms
    lag = max(round(0.02 / _BLOCK_S), 1)
    padded = np.concatenate([np.full(lag, env_db[0]), env_db])
    prev_min = np.lib.stride_tricks.sliding_window_view(padded, lag)[:-1].min(axis=1)
    rise = env_db - prev_min
    onsets = np.flatnonzero((rise > 10.0) & (env_db > gate_db + 6.0))
    if onsets.size:
        onsets = onsets[np.concatenate(([True], np.diff(onsets) > round(0.06 / _BLOCK_S)))]
    onset_rate = onsets.size / max(active_s, 1e-3)
    after = round(0.15 / _BLOCK_S)
    peak_win = round(0.03 / _BLOCK_S)
    onsets = _evenly(onsets[onsets + after + 4 < n_blocks], 400)
    if onsets.size:
        peak_db = env_db[onsets[:, None] + np.arange(peak_win)].max(axis=1)
        later_db = env_db[onsets[:, None] + after + np.arange(4)].mean(axis=1)
        decay = float(np.median(peak_db - later_db))
    else:
        decay = 0.0
    return {"env_crest_db": env_crest, "onset_rate_hz": float(onset_rate), "decay_db": decay}


def _pitch_features(best: np.ndarray, f0: np.ndarray, sid: np.ndarray) -> dict[str, float]:
    out = dict.fromkeys(
        ("periodicity", "voiced_share", "f0_hz", "f0_range_st", "pitch_jitter_cents",
         "pitch_glide_cents", "pitch_grid_r"),
        0.0,
    )  # fmt: skip
    if best.size == 0:
        return out
    voiced = best >= _VOICED_NCCF
    out["periodicity"] = float(np.median(best))
    out["voiced_share"] = float(voiced.mean())
    if voiced.sum() < 5:
        return out
    semis = 12.0 * np.log2(f0[voiced] / 440.0)
    out["f0_hz"] = float(440.0 * 2.0 ** (np.median(semis) / 12.0))
    p10, p90 = np.percentile(semis, [10, 90])
    out["f0_range_st"] = float(p90 - p10)
    pair = voiced[1:] & voiced[:-1] & (sid[1:] == sid[:-1])
    step = 1200.0 * np.abs(np.log2(f0[1:] / f0[:-1]))[pair]
    if step.size >= 3:
        out["pitch_glide_cents"] = float(np.median(step))
        within = step[step < 80.0]
        out["pitch_jitter_cents"] = float(np.median(within)) if within.size >= 3 else 0.0
    out["pitch_grid_r"] = float(np.abs(np.mean(np.exp(2j * np.pi * semis))))
    return out


# ============================================================================================
# audio rules


def _classify_audio(f: dict[str, float]) -> tuple[str, float, str]:
    """Role, confidence in [0, 1] and the rule that fired, from :func:`audio_features` alone.

    Hand-written rules, thresholds in the features' units. Order matters: low-frequency
    sources first, then cymbal-like noise, unpitched hits, pitched sources, the rest.

    The thresholds were set by hand while looking at the 62 labelled stems of the project's
    development data (``benchmarks/labelling.py``), so the accuracy measured there is an
    in-sample figure. A nearest-neighbour or nearest-centroid classifier fitted to the same
    features scored only 52-60 % family accuracy leave-one-song-out on that data (too few
    and too uneven examples to learn from), hence rules that say why they fire.
    """
    if f["active_share"] <= 0.0:
        return "other", 0.1, "silent"
    pitched = f["voiced_share"] >= 0.35 and f["periodicity"] >= 0.65
    percussive = f["decay_db"] >= 8.0 or f["env_crest_db"] >= 18.0
    noise_on_top = f["noisy_share"] >= 0.05 or f["high_share"] >= 0.02

    if f["low_share"] >= 0.45:
        if f["sub_share"] >= 0.7 and f["pitch_glide_cents"] < 10.0:
            return "bass", 0.55, "mostly below 60 Hz without a falling pitch (sub bass)"
        if noise_on_top:
            return "drum_loop", 0.65, "low hits with cymbal/snare noise on top"
        if f["pitch_glide_cents"] >= 10.0 or f["voiced_share"] < 0.15:
            if f["sub_share"] >= 0.25 or f["voiced_share"] < 0.15 or f["f0_hz"] < 60.0:
                return "kick", 0.65, "low, falling pitch (kick)"
            return "toms", 0.55, "low-mid, falling pitch (toms)"
        if f["periodicity"] >= 0.75:
            return "bass", 0.7, "low, steady pitch"
        if f["high_share"] >= 0.005:
            return "drum_loop", 0.45, "low hits without a steady pitch, some highs"
        return "kick", 0.45, "low hits without a steady pitch"

    if f["noisy_share"] >= 0.15 or f["high_share"] >= 0.25:
        if f["low_share"] >= 0.25:
            return "drum_loop", 0.6, "noise with low hits"
        if f["onset_rate_hz"] >= 4.5 or f["decay_db"] >= 25.0:
            return "hihat", 0.65, "high noise, frequent or short hits"
        return "cymbals", 0.6, "high noise, long decays"

    if not pitched and percussive:
        if f["high_share"] >= 0.1:
            return "cymbals", 0.5, "unpitched bright hits"
        if f["onset_rate_hz"] >= 6.0:
            return "drum_loop", 0.5, "dense unpitched hits"
        return "snare", 0.5, "unpitched mid hits"

    if pitched:
        if f["f0_hz"] < 100.0 and f["low_share"] >= 0.3:
            return "bass", 0.55, "pitched, low fundamental"
        if (
            f["pitch_jitter_cents"] >= 3.5
            and 90.0 <= f["f0_hz"] <= 1000.0
            and f["decay_db"] < 20.0
            and f["env_crest_db"] < 20.0
            and f["side_share"] < 0.6
            and f["low_share"] < 0.1
        ):
            return "lead_vocal", 0.6, "pitched, wobbling pitch (voice)"
        if (
            f["decay_db"] >= 8.0
            and f["pitch_jitter_cents"] < 1.5
            and f["pitch_grid_r"] >= 0.85
            and f["periodicity"] >= 0.85
        ):
            return "piano", 0.45, "pitched, steady tuning, decaying notes"
        if f["onset_rate_hz"] < 1.2 and f["decay_db"] < 4.0 and f["env_crest_db"] < 8.0:
            return "pad", 0.4, "pitched, sustained"
        return "synth", 0.35, "pitched, steady"

    if (
        0.45 <= f["periodicity"] < 0.7
        and f["env_crest_db"] < 8.0
        and f["low_share"] < 0.2
        and f["centroid_hz"] >= 700.0
    ):
        return "electric_guitar", 0.4, "dense harmonic mid-range, sustained (distortion)"
    if f["onset_rate_hz"] >= 3.0:
        return "fx", 0.3, "unpitched, irregular"
    return "other", 0.3, "unpitched, sustained"


#: Features copied into the evidence of an audio-based guess (all of them are cheap to keep).
_EVIDENCE_FEATURES = (
    "centroid_hz", "low_share", "sub_share", "high_share", "noisy_share", "crest_db",
    "env_crest_db", "decay_db", "onset_rate_hz", "periodicity", "voiced_share", "f0_hz",
    "pitch_jitter_cents", "pitch_glide_cents", "active_share", "level_dbfs", "side_share",
)  # fmt: skip


def _audio_evidence(feats: dict[str, float], rule: str) -> dict[str, float | str]:
    ev: dict[str, float | str] = {k: round(feats[k], 4) for k in _EVIDENCE_FEATURES}
    ev["audio_rule"] = rule
    return ev


# ============================================================================================
# combining


def _combine(name: str, feats: dict[str, float]) -> RoleGuess:
    """One stem's role from its name and its :func:`audio_features`."""
    a_role, a_conf, rule = _classify_audio(feats)
    evidence = _audio_evidence(feats, rule)
    evidence["audio_role"] = a_role
    named, scores = _name_guess(name)
    if named is None:
        return RoleGuess(a_role, family_of(a_role), a_conf, "audio", evidence)
    evidence.update(named.evidence)
    agrees = family_of(a_role) == named.family
    if named.confidence >= NAME_CONFIDENT:
        conf = named.confidence + 0.04 if agrees else named.confidence - 0.05
        return RoleGuess(named.role, named.family, round(min(conf, 0.99), 3), "name", evidence)
    # an ambiguous name: the audio picks among the name's candidates, or overrules a weak one
    if a_role in scores:
        role, conf = a_role, max(scores[a_role], a_conf) + 0.15
    else:
        same_family = [r for r in scores if family_of(r) == family_of(a_role)]
        if same_family:
            role = max(same_family, key=scores.__getitem__)
            conf = max(scores[role], a_conf) + 0.1
        elif a_conf > named.confidence:
            role, conf = a_role, a_conf - 0.1
        else:
            role, conf = named.role, named.confidence - 0.05
    if ROLE_FAMILY.get(role) == "vocals" and "vocal_part" not in evidence:
        evidence["vocal_part"] = "unspecified"
    conf = round(float(np.clip(conf, 0.05, 0.95)), 3)
    return RoleGuess(role, family_of(role), conf, "name+audio", evidence)


def guess_role(name: str, audio: np.ndarray, sample_rate: int) -> RoleGuess:
    """The role of one stem from its name and its audio.

    Parameters
    ----------
    name : track or file name (``"Kick In"``, ``"07 - Ld Vox.wav"``, ``"Audio 07"``)
    audio : np.ndarray [shape=(n_channels, n_samples)], 1 or 2 channels; not modified
    sample_rate : Hz

    A name at least :data:`NAME_CONFIDENT` sure decides (``source="name"``); an ambiguous name
    is settled with the audio (``"name+audio"``); without a telling name the audio alone
    decides (``"audio"``, confidence at most 0.7).
    """
    return _combine(name, audio_features(audio, sample_rate))


def label_tracks(
    names: Sequence[str], audios: Sequence[np.ndarray], sample_rate: int
) -> list[RoleGuess]:
    """Roles for all stems of one song, using the other tracks as context.

    Parameters
    ----------
    names : one name per stem
    audios : one array per stem, each [shape=(n_channels, n_samples)]; not modified
    sample_rate : Hz, shared by all stems

    Each stem is first guessed alone (:func:`guess_role`). Then, among the vocal tracks whose
    name does not say lead or backing, the one with the most energy over the song (level times
    activity) is the lead vocal when no track is named lead, and the others are backing vocals.
    """
    if len(names) != len(audios):
        raise ParameterError(f"{len(names)} names for {len(audios)} audio arrays")
    from concurrent.futures import ThreadPoolExecutor

    # numpy and scipy release the GIL in the heavy parts, so threads use the cores
    workers = max(1, min(len(audios), os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        feats = list(pool.map(lambda a: audio_features(a, sample_rate), audios))
    return label_from_features(names, feats)


def label_from_features(
    names: Sequence[str], features: Sequence[dict[str, float]]
) -> list[RoleGuess]:
    """:func:`label_tracks` for stems whose :func:`audio_features` are already known."""
    if len(names) != len(features):
        raise ParameterError(f"{len(names)} names for {len(features)} feature sets")
    guesses = [_combine(n, f) for n, f in zip(names, features, strict=True)]
    return _vocal_context(guesses, list(features))


def _vocal_context(guesses: list[RoleGuess], feats: list[dict[str, float]]) -> list[RoleGuess]:
    vocal = [i for i, g in enumerate(guesses) if g.family == "vocals"]
    if not vocal:
        return guesses
    part = {i: str(guesses[i].evidence.get("vocal_part", "unspecified")) for i in vocal}
    open_ = [i for i in vocal if part[i] == "unspecified"]
    if not open_:
        return guesses
    has_lead = any(part[i] == "lead" for i in vocal)

    def energy(i: int) -> float:
        return feats[i]["active_share"] * 10.0 ** (feats[i]["level_dbfs"] / 10.0)

    lead = None if has_lead else max(open_, key=energy)
    out = list(guesses)
    for i in open_:
        role = "lead_vocal" if i == lead else "backing_vocal"
        why = (
            "the most present of the vocal tracks" if i == lead
            else "a lead vocal is named" if has_lead
            else "a quieter or sparser vocal than the lead"
        )  # fmt: skip
        g = guesses[i]
        ev = {**g.evidence, "context": why}
        out[i] = RoleGuess(role, g.family, g.confidence, g.source, ev)
    return out
