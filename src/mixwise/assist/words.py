"""Requests in words: "warmer vocals, punchier drums, less reverb on the snare, bass a bit louder".

:func:`interpret` reads free text against a fixed vocabulary of timbre and mix descriptors and
the tracks of the session, and returns a :class:`TweakPlan`: what it understood (each request
with its ordinary parameter changes, as :class:`~mixwise.session.edit.Suggestion` records of
task ``"tweak"``) and what it did not, with a reason. Nothing is guessed into an action: a word
that is neither in the vocabulary nor a track (after a cautious typo correction) is reported.

Vocabulary: what each word means, measured
-------------------------------------------
Timbre words map to spectral regions the way listening studies and crowd-sourced EQ data found
them (details and references in ``docs/vocabulary.md``): the SAFE plug-in data (Stables et al.,
ISMIR 2014; Stasis, Stables & Hockman, DAFx 2015) and SocialEQ (Cartwright & Pardo, ISMIR 2013)
place "warm" at more energy below about 500 Hz relative to the highs and "bright" at more
energy above about 3-5 kHz; brightness follows the spectral centroid (Schubert & Wolfe, Acta
Acustica 2006; Zacharakis, Pastiadis & Reiss, Music Perception 2014, whose "luminance"
dimension is brightness and whose "mass" dimension is fullness/thinness). Engineers' frequency
charts agree on the problem regions. Amounts below are at normal strength; "a bit" halves
them, "much" doubles them, and "N dB" sets the main move to N dB.

* warm / cold: more (less) energy below ~500 Hz relative to the highs; +2 dB low shelf at
  250 Hz and -1.5 dB high shelf at 6 kHz (cold: the opposite)
* bright / dark (dull): more (less) energy above ~3-5 kHz, a higher (lower) spectral
  centroid; +2.5 dB high shelf at 5 kHz (dark: -2.5 dB)
* muddy: excess at 200-400 Hz; +3 dB bell at 300 Hz, Q 1 (said plainly, a complaint: -3 dB)
* clear / clean: less 200-400 Hz build-up, a little more 2-5 kHz definition; -2 dB bell at
  300 Hz and +1.5 dB bell at 4 kHz
* boxy: excess at 400-800 Hz; bell at 600 Hz, Q 1.4. nasal: 0.8-1.5 kHz; bell at 1 kHz
* harsh: excess at 2-5 kHz; bell at 3.5 kHz, Q 1.2. sibilant: 5-9 kHz; bell at 7 kHz, Q 2
* smooth / soft: less 2-5 kHz edge and less top; -2 dB bell at 3.5 kHz, -1 dB shelf at 9 kHz
* airy: more energy above ~10 kHz; +2.5 dB high shelf at 12 kHz
* full (fat) / thin: more (less) energy at 100-250 Hz; +2.5 dB bell at 150 Hz, Q 0.8
* boomy (low end): energy at 60-150 Hz; bell at 100 Hz, Q 1.2
* punchy: strong, fast onsets; a low "thump" bell (60-120 Hz on kick and bass, ~200 Hz body
  on snare) and a 2-5 kHz attack bell, and an active compressor's attack made slower so more
  of each transient passes
* wide / narrow: stereo width (less / more correlation between the channels); width +-0.25
* wet / dry: reverb and delay relative to the dry sound; sends +-3 dB. reverb, delay (echo):
  those sends only
* upfront (close, present) / distant (far, back): level and direct-to-reverberant ratio, the
  two main distance cues; fader +-1.5 dB and reverb/delay sends -+2 dB
* loud / quiet (up, down, turn up, turn down): the fader, +-2 dB
* compressed (squashed) / dynamic: dynamic range (crest factor); the compressor
* centre / left / right: the pan

Grammar: "more X", "X-er", "add/boost/raise/up" (+1); "less X", "too X", "not so X", "reduce/
cut/lower/down" (-1); "not X enough", "too little X" (+1); "no/remove/without reverb" (send
off); "a bit/slightly/a little/a touch" (x0.5); "much/a lot/way/really/very" (x2); "N dB".
Complaint words said plainly ask for less ("the guitars are muddy", "the vocals are buried").
Typos are corrected only when very close (``difflib`` ratio >= 0.8, or two neighbouring letters
swapped) with the same first letter, and never for common words listed in :data:`_NO_FUZZY`.
A clause with unknown words and no descriptor is refused; unknown words beside a descriptor are
left aside and named in the explanation.
Requests are separated by commas, semicolons, full stops and "and/but/then/plus"; "kick and
snare louder" and "warmer and brighter vocals" share their targets. Targets are tracks by name
(case-insensitive, a whole name or any word of it: "vox" finds "Lead Vox"), by role or family
("vocals", "drums", "snare", "guitars", "keys" ...; :mod:`mixwise.roles`), or the whole mix
("everything", "the mix", "master"). A request that names no target applies to the mix.

How changes are made (session conventions)
------------------------------------------
An EQ change is one suggestion for the whole ``tracks[ID].chain.eq`` list (``master.eq`` for
the mix). A repeated request deepens the band it added before instead of adding another: a
band of the same type within 1/3 octave (and Q within a factor 2) is reused; a band brought to
0 dB by its opposite is removed; at most 32 bands. Levels use ``chain.fader_db`` (at most
+24 dB; the mix: ``master.target_lufs`` or ``master.gain_db``); sends ``chain.sends[i].level_db``
(a new send is created at the level :mod:`mixwise.assist.space` would choose for the role when
the session has an aux reverb or delay bus); compressors ``chain.compressor.*`` (``enabled`` set
too); width ``chain.width`` (no effect on mono sources, so not changed); pan ``chain.pan``.
With a time range (a timed comment), only level requests apply, as
:class:`~mixwise.session.model.GainRamp` fader automation in ``chain.automation``; the rest is
refused because it applies to the whole song.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mixwise.errors import ParameterError
from mixwise.roles import ROLE_FAMILY
from mixwise.session.edit import Suggestion, get_parameter, set_parameter
from mixwise.session.model import Bus, Delay, EQBand, GainRamp, Reverb, Send, Session, Track

TASK = "tweak"

#: Strength of "a bit" and of "much"; normal is 1.
SMALL, LARGE = 0.5, 2.0
#: Fader step (dB) of "louder" at normal strength; "upfront"/"distant" level and send steps.
LEVEL_STEP_DB = 2.0
UPFRONT_LEVEL_DB = 1.5
UPFRONT_SEND_DB = 2.0
#: Send (or aux return) step (dB) of "more reverb" / "wetter".
SEND_STEP_DB = 3.0
#: Width and pan steps at normal strength.
WIDTH_STEP = 0.25
PAN_STEP = 0.5
#: Compressor moves: a new compressor's ratio is 1 + 2 x strength (3:1) at -18 dB (dBFS
#: peak); an existing one's ratio is multiplied and its threshold lowered per unit of strength.
COMP_RATIO_FACTOR = 1.5
COMP_THRESHOLD_STEP_DB = 3.0
#: "Punchier" lengthens an active compressor's attack by this factor per unit of strength.
ATTACK_FACTOR = 1.5
#: Bands within this many octaves (same type, Q within a factor 2) count as the same band.
SAME_BAND_OCT = 1.0 / 3.0
MAX_BANDS = 32
#: Largest strength a "N dB" amount may ask for.
MAX_STRENGTH = 12.0


# --------------------------------------------------------------------------------------------
# the vocabulary


@dataclass(frozen=True)
class Descriptor:
    """One word family of the vocabulary.

    name : the canonical descriptor (``warm``)
    kind : what it changes: ``eq``, ``punch``, ``level``, ``upfront``, ``send``, ``width``,
        ``pan`` or ``dynamics``
    base : the action it uses (an EQ move, ``reverb``/``delay``/``wet`` sends, a pan side)
    sign : +1 for the action as tabled, -1 for its opposite (``cold`` is warm x -1)
    meaning : the measured meaning, in a few words
    words : the words and phrases that name it (comparatives and nouns included)
    unit_db : the main move (dB) at normal strength, so "N dB" can set it; None if not in dB
    """

    name: str
    kind: str
    base: str
    sign: int
    meaning: str
    words: tuple[str, ...]
    unit_db: float | None = None


#: EQ moves at normal strength: (band type, frequency Hz, gain dB, Q).
EQ_MOVES: dict[str, tuple[tuple[str, float, float, float], ...]] = {
    "warm": (("low_shelf", 250.0, 2.0, 0.7071), ("high_shelf", 6000.0, -1.5, 0.7071)),
    "bright": (("high_shelf", 5000.0, 2.5, 0.7071),),
    "muddy": (("peak", 300.0, 3.0, 1.0),),
    "clear": (("peak", 300.0, -2.0, 1.0), ("peak", 4000.0, 1.5, 1.0)),
    "boxy": (("peak", 600.0, 3.0, 1.4),),
    "nasal": (("peak", 1000.0, 3.0, 1.4),),
    "harsh": (("peak", 3500.0, 3.0, 1.2),),
    "smooth": (("peak", 3500.0, -2.0, 1.2), ("high_shelf", 9000.0, -1.0, 0.7071)),
    "sibilant": (("peak", 7000.0, 3.0, 2.0),),
    "airy": (("high_shelf", 12000.0, 2.5, 0.7071),),
    "full": (("peak", 150.0, 2.5, 0.8),),
    "boomy": (("peak", 100.0, 3.0, 1.2),),
}

#: "Punchy" per role: (low thump Hz or None, attack Hz); gains and Qs in :data:`PUNCH_GAINS`.
PUNCH_BANDS: dict[str, tuple[float | None, float]] = {
    "kick": (70.0, 3500.0),
    "bass": (90.0, 2000.0),
    "toms": (110.0, 3500.0),
    "snare": (200.0, 4000.0),
    "percussion": (200.0, 4000.0),
    "hihat": (None, 5000.0),
    "cymbals": (None, 5000.0),
    "room": (100.0, 3500.0),
}
PUNCH_DEFAULT = (100.0, 3000.0)
PUNCH_GAINS = ((2.0, 1.2), (1.5, 1.0))  # (gain dB, Q) of the low and the attack band


def _split(words: str) -> list[str]:
    """``"a,b c,d"`` -> ``["a", "b c", "d"]`` (the tables below list words this way)."""
    return [w.strip() for w in words.split(",") if w.strip()]


def _d(name, kind, base, sign, unit_db, meaning, words) -> Descriptor:
    return Descriptor(name, kind, base, sign, meaning, tuple(_split(words)), unit_db)


# fmt: off
VOCABULARY: tuple[Descriptor, ...] = (
    _d("warm", "eq", "warm", 1, 2.0,
       "more energy below ~500 Hz relative to the highs",
       "warm,warmer,warmest,warmth,warmed"),
    _d("cold", "eq", "warm", -1, 2.0,
       "less energy below ~500 Hz relative to the highs",
       "cold,colder,coldest,coldness,cool,cooler,coolest"),
    _d("bright", "eq", "bright", 1, 2.5,
       "more energy above ~3-5 kHz (a higher spectral centroid)",
       "bright,brighter,brightest,brightness,brighten,crisp,crisper,crispy,crispness,sparkle,"
       "sparkly,sparkling,shiny,shinier,treble,highs,top end,high end"),
    _d("dark", "eq", "bright", -1, 2.5,
       "less energy above ~3-5 kHz (a lower spectral centroid)",
       "dark,darker,darkest,darkness,darken,dull,duller,dullest,dullness,muffled,mellow,"
       "mellower"),
    _d("muddy", "eq", "muddy", 1, 3.0,
       "excess energy around 200-400 Hz",
       "muddy,muddier,mud,muddiness,murky,murkier,murkiness,low mids,low mid,lower mids"),
    _d("clear", "eq", "clear", 1, 2.0,
       "less 200-400 Hz build-up and a little more 2-5 kHz definition",
       "clear,clearer,clearest,clarity,clean,cleaner,cleanest,defined,definition"),
    _d("boxy", "eq", "boxy", 1, 3.0,
       "excess energy around 400-800 Hz",
       "boxy,boxier,boxiness,cardboard,cardboardy"),
    _d("nasal", "eq", "nasal", 1, 3.0,
       "excess energy around 0.8-1.5 kHz",
       "nasal,nasally,nasality,honky,honkier,honk"),
    _d("harsh", "eq", "harsh", 1, 3.0,
       "excess energy around 2-5 kHz",
       "harsh,harsher,harshest,harshness,shrill,shriller,piercing,strident,abrasive,edgy,"
       "edgier,high mids,high mid,upper mids,edge"),
    _d("smooth", "eq", "smooth", 1, 2.0,
       "less 2-5 kHz edge and a little less top",
       "smooth,smoother,smoothest,smoothness,soft,softer,softest,soften,silky,silkier,gentle,"
       "gentler,sweet,sweeter"),
    _d("sibilant", "eq", "sibilant", 1, 3.0,
       "excess energy around 5-9 kHz (the 's' sounds)",
       "sibilant,sibilance,sibilants,essy,esses"),
    _d("airy", "eq", "airy", 1, 2.5,
       "more energy above ~10 kHz",
       "airy,airier,airiest,air,airiness,breathy,breathier,sheen"),
    _d("full", "eq", "full", 1, 2.5,
       "more energy around 100-250 Hz (body)",
       "full,fuller,fullest,fullness,fat,fatter,fattest,thick,thicker,body,beefy,beefier,"
       "meaty,meatier,warm body"),
    _d("thin", "eq", "full", -1, 2.5,
       "less energy around 100-250 Hz (lacking body)",
       "thin,thinner,thinnest,thinness,tinny,tinnier,weedy"),
    _d("boomy", "eq", "boomy", 1, 3.0,
       "excess energy around 60-150 Hz (the low end)",
       "boomy,boomier,boom,boominess,low end,bottom end,bottom,lows,sub,subs"),
    _d("punchy", "punch", "punch", 1, 2.0,
       "strong, fast onsets: a low thump (60-120 Hz; ~200 Hz on snare) and a 2-5 kHz attack",
       "punchy,punchier,punchiest,punch,punchiness,impact,snappy,snappier,snap"),
    _d("wide", "width", "width", 1, None,
       "a wider stereo image (less correlation between channels)",
       "wide,wider,widest,width,widen,broad,broader,spread,stereo,spacious"),
    _d("narrow", "width", "width", -1, None,
       "a narrower stereo image (closer to mono)",
       "narrow,narrower,narrowest,mono,narrowed"),
    _d("wet", "send", "wet", 1, SEND_STEP_DB,
       "more reverb and delay relative to the dry sound",
       "wet,wetter,wettest,wetness,ambience,ambiance,ambient,lush,lusher"),
    _d("dry", "send", "wet", -1, SEND_STEP_DB,
       "less reverb and delay relative to the dry sound",
       "dry,drier,dryer,driest,dryness"),
    _d("reverb", "send", "reverb", 1, SEND_STEP_DB,
       "the reverb relative to the dry sound (its send level)",
       "reverb,reverbs,verb,reverberation,reverberant,reverby"),
    _d("delay", "send", "delay", 1, SEND_STEP_DB,
       "the echoes relative to the dry sound (the delay send level)",
       "delay,delays,echo,echoes,echoey,echoy,slapback"),
    _d("upfront", "upfront", "upfront", 1, UPFRONT_LEVEL_DB,
       "closer: louder and a higher direct-to-reverberant ratio",
       "upfront,up front,in front,forward,close,closer,present,presence,intimate,front,"
       "in your face,near,nearer"),
    _d("distant", "upfront", "upfront", -1, UPFRONT_LEVEL_DB,
       "farther away: quieter and a lower direct-to-reverberant ratio",
       "distant,far,farther,further,far away,further back,in the back,pushed back,set back,"
       "back,behind,recessed,buried in,buried,lost in,lost"),
    _d("loud", "level", "level", 1, LEVEL_STEP_DB,
       "a higher level (fader)",
       "loud,louder,loudest,loudness,volume,hotter,high"),
    _d("quiet", "level", "level", -1, LEVEL_STEP_DB,
       "a lower level (fader)",
       "quiet,quieter,quietest,low"),
    _d("compressed", "dynamics", "dynamics", 1, None,
       "a smaller dynamic range (crest factor): more compression",
       "compressed,compress,compression,compressor,squashed,squash,squashy,squashier,squish,"
       "squished,squeezed,controlled,glue,glued,levelled,leveled"),
    _d("dynamic", "dynamics", "dynamics", -1, None,
       "a larger dynamic range (crest factor): less compression",
       "dynamic,dynamics,uncompressed,lively,livelier"),
    _d("centre", "pan", "centre", 1, None,
       "the pan position: towards the centre",
       "centre,center,centred,centered,central,centrally,middle,in the middle,in the centre,"
       "in the center"),
    _d("left", "pan", "left", 1, None,
       "the pan position: towards the left",
       "left,to the left,leftward"),
    _d("right", "pan", "right", 1, None,
       "the pan position: towards the right",
       "right,to the right,rightward"),
)
# fmt: on
DESCRIPTORS: dict[str, Descriptor] = {d.name: d for d in VOCABULARY}

#: Complaint words: said plainly ("the vocals are muddy", "mud on the guitar") they ask for
#: less of it; "more mud" or "muddier" still mean more.
COMPLAINTS = frozenset(
    _split(
        "muddy,murky,mud,muddiness,murkiness,boxy,boxiness,cardboardy,nasal,nasally,nasality,"
        "honky,harsh,harshness,shrill,piercing,strident,abrasive,edgy,sibilant,sibilance,essy,"
        "esses,boomy,boominess,thin,thinness,tinny,weedy,dull,dullness,muffled,dark,cold,"
        "squashed,squished,squashy,distant,recessed,buried in,buried,lost in,lost,loud,quiet,"
        "narrow,high,low,edge"
    )
)

# Modifiers. Each entry is (kind, value): ("dir", +1/-1) sets the direction, ("none", -1)
# switches an effect send off, ("too",) means "less", ("not",)/("enough",) read together,
# ("str", x) scales the amount.
_MODIFIERS: dict[str, tuple] = {}
for _w in _split(
    "more,add,increase,boost,raise,extra,up,turn up,bring up,push up,crank,crank up,pump up,"
    "higher,too little,not enough,need more,needs more"
):
    _MODIFIERS[_w] = ("dir", 1)
for _w in _split(
    "less,fewer,reduce,cut,lower,decrease,down,turn down,bring down,pull down,back off,"
    "tone down,dial back,take out,too much,not so,not as,not too,pull back"
):
    _MODIFIERS[_w] = ("dir", -1)
for _w in _split("no,remove,without,kill,get rid of,take off,lose"):
    _MODIFIERS[_w] = ("none", -1)
# With no descriptor in the request, these mean a descriptor rather than the level.
_MODIFIERS["clean up"] = ("dir", -1, "clear")
_MODIFIERS["tidy up"] = ("dir", -1, "clear")
_MODIFIERS["tame"] = ("dir", -1, "compressed")
for _w in _split("too,overly,excessively"):
    _MODIFIERS[_w] = ("too",)
for _w in _split("not,isn't,isnt,aren't,arent,don't,dont"):
    _MODIFIERS[_w] = ("not",)
_MODIFIERS["enough"] = ("enough",)
for _w in _split(
    "a bit,a little,a little bit,a touch,a tad,a hair,a smidge,slightly,slight,somewhat,bit,"
    "little,tad,touch,just a bit,just a little,a little more,gently,subtly,a notch"
):
    _MODIFIERS[_w] = ("str", SMALL)
for _w in _split(
    "much,a lot,lots,lot,way,really,very,significantly,considerably,a great deal,heaps,loads,"
    "massively,hugely,hard,seriously,extremely,super,way more,a lot more,much more"
):
    _MODIFIERS[_w] = ("str", LARGE)
_MODIFIERS["a little more"] = ("str", SMALL)

#: Modifiers that mean the level by themselves ("turn it up"); "more" alone does not.
_LEVEL_VERBS = frozenset(
    _split(
        "up,down,turn up,turn down,bring up,bring down,push up,pull down,raise,lower,boost,cut,"
        "crank,crank up,pump up,higher,reduce,decrease,increase,tone down"
    )
)

#: Words for the whole mix (the master chain).
_MIX_WORDS: dict[str, str] = {
    w: "mix"
    for w in _split(
        "everything,mix,the mix,overall,whole mix,whole song,whole thing,entire mix,all,song,"
        "whole,the whole,everything else,mixdown,all of it,full mix"
    )
}
_MIX_WORDS.update({w: "master" for w in _split("master,master bus,mix bus,mastering,the master")})

#: Words for roles (a family is its roles), and instruments people name.
_ROLE_WORDS: dict[str, tuple[str, ...]] = {}


def _roles_of(spec: str) -> tuple[str, ...]:
    if spec.startswith("family:"):
        fam = spec.split(":", 1)[1]
        return tuple(r for r, f in ROLE_FAMILY.items() if f == fam)
    return tuple(spec.split("+"))


for _spec, _words in (
    ("lead_vocal+backing_vocal",
     "vocals,vocal,voice,voices,vox,singer,singers,singing,vocalist,vocalists,vocs"),
    ("lead_vocal",
     "lead,lead vocal,lead vocals,lead vox,main vocal,main vocals,lead voice,lead singer,"
     "lead vocalist"),
    ("backing_vocal",
     "backing,backings,backing vocal,backing vocals,backing vox,background vocals,"
     "backup vocals,backups,bv,bvs,bgv,bgvs,harmony,harmonies,choir,doubles"),
    ("family:drums", "drums,drum,kit,drum kit,the kit,drum bus,drumkit"),
    ("kick", "kick,kicks,bass drum,kick drum,bd"),
    ("snare", "snare,snares,snare drum,sn"),
    ("hihat", "hat,hats,hihat,hihats,hi hat,hi hats,high hat,high hats,hh"),
    ("toms", "tom,toms,tom toms,floor tom,rack tom"),
    ("cymbals", "cymbal,cymbals,overhead,overheads,crash,ride"),
    ("room", "room,rooms,room mic,room mics,ambience mics"),
    ("percussion", "percussion,perc,percs,shaker,shakers,tambourine,conga,congas,bongo,bongos,"
     "claps,clap,handclaps,cowbell"),
    ("drum_loop", "loop,loops,drum loop,drum loops"),
    ("family:drums", "beat,beats"),
    ("bass", "bass,basses,bassline,bass line,bass guitar,low bass,sub bass,808"),
    ("electric_guitar+acoustic_guitar", "guitar,guitars,gtr,gtrs"),
    ("electric_guitar", "electric,electrics,electric guitar,electric guitars,lead guitar,"
     "rhythm guitar,rhythm guitars,distorted guitar"),
    ("acoustic_guitar", "acoustic,acoustics,acoustic guitar,acoustic guitars"),
    ("piano", "piano,pianos,grand piano,upright"),
    ("piano+keys", "keys,keyboard,keyboards"),
    ("keys", "organ,organs,rhodes,wurli,wurlitzer,electric piano,ep,clav"),
    ("synth", "synth,synths,synthesizer,synthesizers,synthesiser,synthesisers,lead synth"),
    ("pad", "pad,pads,synth pad,synth pads"),
    ("strings", "strings,string,violin,violins,viola,violas,cello,cellos,orchestra,fiddle"),
    ("brass_winds", "brass,horn,horns,trumpet,trumpets,trombone,trombones,sax,saxes,"
     "saxophone,saxophones,flute,flutes,clarinet,winds,woodwinds"),
    ("fx", "fx,sfx,sound effects,riser,risers,sweeps"),
    ("", "banjo,ukulele,uke,mandolin,harmonica,accordion,harp,sitar,marimba,xylophone,"
     "vibraphone,glockenspiel,bells,whistle,kalimba,bagpipes,didgeridoo"),
):  # fmt: skip
    for _w in _split(_words):
        _ROLE_WORDS[_w] = _roles_of(_spec) if _spec else ()

#: Words that carry no request on their own.
_STOPWORDS = frozenset(
    _split(
        "the,a,an,to,of,on,in,into,onto,for,with,at,from,by,as,it,its,it's,is,are,was,were,be,"
        "been,being,make,makes,making,made,sound,sounds,sounding,sounded,please,pls,can,could,"
        "would,should,will,you,we,i,me,my,our,your,us,let,lets,let's,just,get,gets,give,need,"
        "needs,want,wants,like,feel,feels,seem,seems,try,put,bring,turn,push,pull,have,has,do,"
        "does,them,they,this,that,those,these,there,here,so,some,any,kinda,kind,sort,now,"
        "still,again,thing,things,stuff,one,ones,track,tracks,part,parts,tone,level,levels,"
        "think,guess,maybe,perhaps,quite,pretty,rather,end,bus,thanks,thank,ok,okay,hey,um,"
        "db,dbs,decibel,decibels,than,who,what,how,if,or,abit,i'd,i'm,im,id,whose,their,his,"
        "her,sure,go,goes,set,every,each,though,yet,tiny,teeny,only,both,other,side,sides,"
        "mixing,hear,heard,audible,channel,channels,stem,stems,instrument,instruments,pan,"
        "panned,panning,position,take,place,sit,sits,sitting,hi,hello"
    )
)
#: Real words that look like vocabulary words but mean something else: never typo-corrected.
_NO_FUZZY = frozenset(
    _split(
        "think,thing,things,light,lighter,night,tight,tighter,weird,worse,better,wrong,white,"
        "while,where,write,warn,warning,born,brought,bright's,bottle,clean's,clever,close's,"
        "fuller's,wider's,cooler's,slower,faster,slow,fast,longer,shorter,bigger,smaller,big,"
        "small,huge,heavier,heavy,lighter,deeper,deep,richer,rich,nicer,nice,cleaner's,later,"
        "earlier,early,late,sweeter's,chorus,verse,bridge,intro,outro,hook,drop,section,"
        "sections,beginning,ending,start,fix,fixed,balance,balanced,tune,tuned,pitch,timing,"
        "groove,feel,feeling,vibe,mood,energy,power,powerful,character,texture,color,colour,"
        "boring,exciting,clip,clipping,distortion,distorted,noise,noisy,hiss,hum,click,clicks,"
        "pops,phase,muted,mute,solo,unmute,leader,leads,"
        "bread,brash,brush,brushes,boost's,cooling,holding,sounds,round,rounder,ground,found,"
        "chose,choose,fully,revert,reverse,decay,prevent,black,quit,loose,looser,hardly,"
        "matter,share,spare,stare,scare,snake,single,chair,breath,breaths,meant,nearly,trick,"
        "bloom,silly,sweat,declined,muddle,mids,midrange,mid,middles"
    )
)
#: Phrases mixwise knows it does not handle here (read as not understood, never as a level).
_UNHANDLED = _split(
    "high pass,low pass,high cut,low cut,highpass,lowpass,hpf,lpf,low shelf,high shelf,mids,"
    "midrange,mid,middles,eq,equalise,equalize,autotune,tuning,de ess,deess"
)
#: Words that join two requests inside one clause ("warmer vocals and less reverb").
_JOINERS = re.compile(r"\s+(?:and|but|then|plus|also|while|as well as)\s+|\s*&\s*|\s*\+\s+", re.I)
_CLAUSES = re.compile(r"[,;!?\n]+|\.(?!\d)")
_TOKEN = re.compile(r"[+-]?\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?")
_DB_WORDS = frozenset(("db", "dbs", "decibel", "decibels"))


def _tokens(text: str) -> list[str]:
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)
    return _TOKEN.findall(t)


def _static_table() -> dict[tuple[str, ...], tuple]:
    table: dict[tuple[str, ...], tuple] = {}
    for w in _STOPWORDS:
        table[(w,)] = ("stop",)
    for w in _UNHANDLED:
        table[tuple(w.split())] = ("unknown",)
    for w, entry in _MODIFIERS.items():
        table[tuple(w.split())] = entry
    for w, what in _MIX_WORDS.items():
        table[tuple(w.split())] = ("mix", what)
    for d in VOCABULARY:
        for w in d.words:
            table[tuple(w.split())] = ("desc", d.name)
    return table


_STATIC = _static_table()


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Request:
    """One request understood, and what it changed.

    phrase : the words as written
    descriptor : the canonical descriptor recognised (``warm``, ``loud``, ``reverb`` ...)
    direction : +1 for more of it, -1 for less
    strength : 0.5 ("a bit"), 1.0, 2.0 ("much"), or the ratio asked in dB
    targets : track ids, or ``["mix"]`` / ``["master"]``
    explanation : one line: what it means and what was changed
    changes : the parameter changes (task ``"tweak"``), in the order to apply them; empty
        when nothing needed changing (the explanation says why)
    """

    phrase: str
    descriptor: str
    direction: int
    strength: float
    targets: list[str]
    explanation: str
    changes: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class TweakPlan:
    """What :func:`interpret` understood (with its changes) and what it did not (with why)."""

    understood: list[Request]
    not_understood: list[str]

    @property
    def changes(self) -> list[Suggestion]:
        """Every change of every request, in order (apply them in this order)."""
        return [s for r in self.understood for s in r.changes]

    def summary(self) -> str:
        """What was understood and changed, one line per request, then the refusals."""
        lines = [f"understood: {r.explanation}" for r in self.understood]
        lines += [f"not done: {reason}" for reason in self.not_understood]
        return "\n".join(lines) if lines else "nothing to do: the request was empty"


# --------------------------------------------------------------------------------------------
# reading the text


@dataclass(eq=False)
class _Item:
    pos: int
    entry: tuple
    key: str  # the vocabulary phrase it matched


@dataclass(eq=False)
class _Part:
    text: str
    items: list[_Item]
    targets: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)
    mix: str | None = None
    unknown: list[str] = field(default_factory=list)
    fuzzy: list[tuple[str, str]] = field(default_factory=list)

    @property
    def descs(self) -> list[_Item]:
        return [i for i in self.items if i.entry[0] == "desc"]

    @property
    def mods(self) -> list[_Item]:
        return [i for i in self.items if i.entry[0] in ("dir", "none", "too", "not", "str", "num")]

    @property
    def has_target(self) -> bool:
        return bool(self.targets or self.missing or self.mix)

    @property
    def level_cue(self) -> bool:
        return any(i.entry[0] in ("dir", "none", "too", "num") for i in self.items)


class _Lexicon:
    """The vocabulary plus this session's track names and roles."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.names = {t.id: t.name for t in session.tracks}
        table: dict[tuple[str, ...], tuple] = {}
        name_words: dict[str, set[str]] = {}
        for t in session.tracks:
            toks = tuple(_tokens(t.name))
            if toks:
                ids = set(table.get(toks, ("target", frozenset(), ""))[1]) | {t.id}
                table[toks] = ("target", frozenset(ids), t.name)
            for w in toks:
                if w.isdigit() or len(w) < 2 or _STATIC.get((w,), ("",))[0] != "":
                    continue
                for v in {w, w + "s", w[:-1] if w.endswith("s") and len(w) > 3 else w}:
                    name_words.setdefault(v, set()).add(t.id)
        for phrase, roles in _ROLE_WORDS.items():
            key = tuple(phrase.split())
            ids = {t.id for t in session.tracks if t.role in roles}
            if len(key) == 1:
                ids |= name_words.get(phrase, set())
            if key in table and len(key) > 1:
                continue  # a track's own name wins
            table[key] = ("target", frozenset(ids), phrase) if ids else ("missing", phrase)
        for w, ids in name_words.items():
            key = (w,)
            if key in table and table[key][0] == "target":
                table[key] = ("target", table[key][1] | frozenset(ids), w)
            elif key not in table or table[key][0] == "missing":
                table[key] = ("target", frozenset(ids), w)
        self.table = table
        self.max_len = max(len(k) for k in (*table, *_STATIC))
        pool = {k[0] for k, v in _STATIC.items() if len(k) == 1 and v[0] not in ("stop", "unknown")}
        pool |= {k[0] for k in table if len(k) == 1}
        self.pool = sorted(w for w in pool if len(w) >= 4 and w.isalpha())

    def lookup(self, key: tuple[str, ...]) -> tuple | None:
        if len(key) > 1:
            return self.table.get(key) or _STATIC.get(key)
        return _STATIC.get(key) or self.table.get(key)

    def fuzzy(self, word: str) -> str | None:
        """The vocabulary word ``word`` is a likely typo of, or None (never for real words
        listed in :data:`_NO_FUZZY`, short words, or a different first letter)."""
        if len(word) < 4 or not word.isalpha() or word in _NO_FUZZY:
            return None
        for cand in self.pool:  # two neighbouring letters swapped ("kcik")
            if len(cand) == len(word) and cand[0] == word[0] and _one_swap(word, cand):
                return cand
        for cand in difflib.get_close_matches(word, self.pool, n=3, cutoff=0.8):
            if cand[0] == word[0]:
                return cand
        return None

    def read(self, text: str) -> _Part:
        toks = _tokens(text)
        part = _Part(text=text.strip(), items=[])
        i = 0
        while i < len(toks):
            tok = toks[i]
            if re.fullmatch(r"[+-]?\d+(?:\.\d+)?", tok):
                if i + 1 < len(toks) and toks[i + 1] in _DB_WORDS:
                    part.items.append(_Item(i, ("num", float(tok)), tok))
                    i += 2
                else:  # a number without a unit: a name ("808") or nothing we can use
                    entry = self.lookup((tok,))
                    if entry is not None:
                        self._take(part, i, entry, tok, tok)
                    i += 1
                continue
            if tok == "bass" and i + 1 < len(toks) and toks[i + 1] in ("on", "in", "for", "of"):
                # "more bass on the kick": the low end, not the bass track
                self._take(part, i, ("desc", "boomy"), "low end", tok)
                i += 1
                continue
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                key = tuple(toks[i : i + n])
                entry = self.lookup(key)
                if entry is not None:
                    self._take(part, i, entry, " ".join(key), " ".join(key))
                    i += n
                    break
            else:
                cand = self.fuzzy(tok)
                entry = self.lookup((cand,)) if cand else None
                if cand and entry is not None:
                    part.fuzzy.append((tok, cand))
                    self._take(part, i, entry, cand, tok)
                else:
                    part.unknown.append(tok)
                i += 1
        return part

    def _take(self, part: _Part, pos: int, entry: tuple, key: str, typed: str) -> None:
        kind = entry[0]
        if kind == "stop":
            return
        if kind == "unknown":
            part.unknown.append(typed)
        elif kind == "target":
            part.targets |= set(entry[1])
        elif kind == "missing":
            part.missing.append(typed)
        elif kind == "mix":
            part.mix = "master" if "master" in (part.mix, entry[1]) else entry[1]
        else:
            part.items.append(_Item(pos, entry, key))

    def track_list(self) -> str:
        return ", ".join(self.names.values()) or "none"


def _one_swap(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with two neighbouring letters swapped."""
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _attached(part: _Part, desc: _Item) -> list[_Item]:
    """The modifiers that belong to ``desc``: those after the previous descriptor and before
    it, and for the last descriptor also those after it."""
    descs = part.descs
    k = descs.index(desc)
    lo = descs[k - 1].pos if k > 0 else -1
    hi = descs[k + 1].pos if k + 1 < len(descs) else math.inf
    return [m for m in part.mods if lo < m.pos < hi]


def _direction_strength(
    part: _Part, mods: list[_Item], unit_db: float | None, default: int = 1
) -> tuple[int, float, bool]:
    """(direction, strength, switch off) from the modifiers; ``default`` is the direction
    when no modifier gives one (-1 for a complaint word). "N dB" sets the strength so that
    the main move is N dB (``unit_db`` is its size at strength 1)."""
    d: int | None = None
    off = False
    for m in mods:
        if m.entry[0] in ("dir", "none"):
            d = m.entry[1]
            off = m.entry[0] == "none"
    if d is None and any(m.entry[0] == "too" for m in mods):
        d = -1
    if d is None and any(m.entry[0] == "not" for m in mods):
        d = 1 if any(i.entry[0] == "enough" for i in part.items) else -1
    strength = 1.0
    for m in mods:
        if m.entry[0] == "str":
            strength = m.entry[1]
    for m in mods:
        if m.entry[0] == "num" and unit_db:
            value = m.entry[1]
            strength = min(abs(value) / unit_db, MAX_STRENGTH)
            if d is None and value < 0:
                d = -1
    return (d if d is not None else default), strength, off


@dataclass
class _Ask:
    phrase: str
    desc: Descriptor
    direction: int
    strength: float
    off: bool
    targets: list[str]  # track ids, or ["mix"] / ["master"]
    fuzzy: list[tuple[str, str]]
    ignored: list[str] = field(default_factory=list)  # words not understood, left aside


def _resolve(parts: list[_Part], lex: _Lexicon, refused: list[str]) -> list[_Ask]:
    """Share targets inside one clause, then turn parts into asks (refusals into ``refused``)."""
    actionable = [p for p in parts if p.descs or p.level_cue]
    for k, p in enumerate(parts):
        if p in actionable or not p.has_target:
            continue
        if p.unknown:
            continue  # refused below
        later = [q for q in parts[k + 1 :] if q in actionable]
        earlier = [q for q in parts[:k] if q in actionable]
        host = later[0] if later else (earlier[-1] if earlier else None)
        if host is not None:
            host.targets |= p.targets
            host.missing += p.missing
            host.mix = host.mix or p.mix
            joined = (p.text, host.text) if later else (host.text, p.text)
            host.text = " and ".join(joined)
            p.targets, p.missing, p.mix = set(), [], None
            p.text = ""  # consumed
    for k, p in enumerate(parts):
        if p in actionable and not p.has_target and not p.unknown:
            later = [q for q in parts[k + 1 :] if q.targets or q.missing]
            earlier = [q for q in parts[:k] if q.targets or q.missing]
            src = later[0] if later else (earlier[-1] if earlier else None)
            if src is not None:
                p.targets = set(src.targets)
                p.missing = list(src.missing)

    asks: list[_Ask] = []
    order = {t.id: i for i, t in enumerate(lex.session.tracks)}
    for p in parts:
        if not p.text:
            continue
        if p not in actionable:
            if p.unknown:
                if p.has_target:
                    words = " ".join(p.unknown)
                    refused.append(f"did not understand {words!r} in {p.text!r}")
                else:
                    refused.append(f"did not understand {p.text!r}")
            elif p.has_target:
                refused.append(f"{p.text!r}: say what to change (e.g. '{p.text} louder')")
            continue
        for word in p.missing:
            refused.append(f"no track called {word!r} (tracks: {lex.track_list()})")
        if p.targets:
            targets = sorted(p.targets, key=lambda i: order.get(i, 0))
        elif p.missing:
            continue
        elif p.unknown and not p.mix:
            for word in p.unknown:
                refused.append(f"no track called {word!r} (tracks: {lex.track_list()})")
            continue
        else:
            targets = [p.mix or "mix"]
        descs = p.descs
        if not descs and p.unknown:  # the level is only a guess here: refuse rather than guess
            words = " ".join(p.unknown)
            refused.append(f"did not understand {words!r} in {p.text!r}")
            continue
        if not descs:
            fallback = [m.entry[2] for m in p.mods if len(m.entry) > 2]
            if fallback:  # "clean up the guitars", "tame the snare"
                desc = DESCRIPTORS[fallback[-1]]
                _, s, _ = _direction_strength(p, p.mods, desc.unit_db)
                asks.append(_Ask(p.text, desc, 1, s, False, targets, p.fuzzy))
                continue
            # "vocals up", "more guitar", "bass +2 dB", "turn it up": the level
            if not p.has_target and not any(m.key in _LEVEL_VERBS for m in p.mods):
                refused.append(f"{p.text!r}: more or less of what? (e.g. 'vocals louder')")
                continue
            d, s, off = _direction_strength(p, p.mods, LEVEL_STEP_DB)
            if off:
                refused.append(
                    f"{p.text!r}: a track is not removed by a request in words (mute it, or "
                    "ask for it quieter)"
                )
                continue
            asks.append(_Ask(p.text, DESCRIPTORS["loud"], d, s, False, targets, p.fuzzy))
            continue
        seen: set[str] = set()
        for item in descs:
            desc = DESCRIPTORS[item.entry[1]]
            if desc.name in seen:
                continue
            seen.add(desc.name)
            default = -1 if item.key in COMPLAINTS else 1
            d, s, off = _direction_strength(p, _attached(p, item), desc.unit_db, default)
            asks.append(_Ask(p.text, desc, d, s, off, targets, p.fuzzy, p.unknown))
    return asks


# --------------------------------------------------------------------------------------------
# acting on the session


def _copy(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_copy(deep=True)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _fmt_db(x: float) -> str:
    return f"{x:+.1f} dB"


def _fmt_hz(f: float) -> str:
    if f >= 1000:
        return f"{f / 1000:g} kHz"
    return f"{f:.0f} Hz"


_BAND_LABEL = {"peak": "bell", "low_shelf": "low shelf", "high_shelf": "high shelf"}


class _Work:
    """The working copy the requests change one after the other, the changes made, and the
    reason and evidence of the request being acted on."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.changes: list[Suggestion] = []
        self.why = ""
        self.evidence: dict[str, Any] = {}

    def get(self, path: str) -> Any:
        return get_parameter(self.session, path)

    def set(self, path: str, new: Any, target: str, unit: str, **evidence: Any) -> bool:
        """Set ``path`` to ``new`` in the working copy and record the change (False, and no
        record, when the value is already ``new``)."""
        old = _copy(self.get(path))
        if old == new:
            return False
        set_parameter(self.session, path, _copy(new))
        self.changes.append(
            Suggestion(
                task=TASK,
                target=target,
                parameter=path,
                old=old,
                new=_copy(new),
                unit=unit,
                reason=self.why,
                evidence={**self.evidence, **evidence},
                confidence=0.9,
            )
        )
        return True


def _key(items: list, item: Any) -> str:
    """How a parameter path names ``item`` of ``items``: its id, or its index when the id
    could not be read back from a path (a dot, a bracket, or all digits)."""
    ident = item.id
    if "." in ident or "]" in ident or ident.lstrip("-").isdigit():
        return str(next(i for i, x in enumerate(items) if x is item))
    return ident


def _chain(work: _Work, t: Track) -> str:
    """The parameter path of track ``t``'s chain (``tracks[ID].chain``)."""
    return f"tracks[{_key(work.session.tracks, t)}].chain"


def _bus_chain(work: _Work, b: Bus) -> str:
    return f"buses[{_key(work.session.buses, b)}].chain"


def _same_band(b: EQBand, kind: str, freq: float, q: float) -> bool:
    return (
        b.enabled
        and b.type == kind
        and abs(math.log2(b.freq_hz / freq)) <= SAME_BAND_OCT + 1e-9
        and 0.5 <= b.q / q <= 2.0
    )


def _eq(work: _Work, path: str, name: str, moves: Iterable[tuple], scale: float) -> str:
    """Add (or deepen) the EQ ``moves`` scaled by ``scale`` on the band list at ``path``."""
    bands = [b.model_copy() for b in work.get(path)]
    said: list[str] = []
    asked = []
    for kind, freq, gain, q in moves:
        delta = round(gain * scale, 2)
        asked.append({"type": kind, "freq_hz": freq, "gain_db": delta, "q": q})
        label = f"{_BAND_LABEL.get(kind, kind)} at {_fmt_hz(freq)}"
        k = next((i for i, b in enumerate(bands) if _same_band(b, kind, freq, q)), None)
        if k is None:
            if len(bands) >= MAX_BANDS:
                said.append(f"no room for a {label} (the EQ has {MAX_BANDS} bands)")
                continue
            delta = max(-48.0, min(48.0, delta))
            bands.append(EQBand(type=kind, freq_hz=freq, gain_db=delta, q=q))
            said.append(f"{_fmt_db(delta)} {label}")
            continue
        old = bands[k].gain_db
        new = round(max(-48.0, min(48.0, old + delta)), 2)
        label = f"{_BAND_LABEL.get(kind, kind)} at {_fmt_hz(bands[k].freq_hz)}"
        if new == old:
            said.append(f"the {label} is already at its limit ({_fmt_db(old)})")
        elif new == 0.0:
            del bands[k]
            said.append(f"{_fmt_db(new - old)} {label}, back to flat (band removed)")
        else:
            bands[k] = bands[k].model_copy(update={"gain_db": new})
            said.append(f"{_fmt_db(new - old)} {label} (now {_fmt_db(new)})")
    work.set(path, bands, name, "EQ bands", moves=asked)
    return " and ".join(said) if said else "no change"


def _effect_kind(bus: Bus) -> str | None:
    """``reverb`` or ``delay`` for an aux bus holding (or named for) one, else None."""
    if bus.kind != "aux":
        return None
    if isinstance(bus.effect, Reverb):
        return "reverb"
    if isinstance(bus.effect, Delay):
        return "delay"
    text = f"{bus.id} {bus.name}".lower()
    if re.search(r"reverb|verb|hall|plate|room|space", text):
        return "reverb"
    if re.search(r"delay|echo|slap", text):
        return "delay"
    return None


def _effect_buses(session: Session, which: str) -> list[Bus]:
    kinds = ("reverb", "delay") if which == "wet" else (which,)
    return [b for b in session.buses if _effect_kind(b) in kinds]


def _sensible_send_db(track: Track, bus: Bus, kind: str) -> float:
    """The send level (dB) the space assistant starts from for ``track``'s role: the role's
    return target (LU re the dry track) minus the effect's measured gain and the aux fader."""
    from mixwise.assist.space import (
        DELAY_RETURN_LU,
        REVERB_RETURN_LU,
        delay_gain_lu,
        reverb_gain_lu,
    )

    if kind == "reverb":
        target = REVERB_RETURN_LU.get(track.role, REVERB_RETURN_LU["other"])
        gain = reverb_gain_lu(bus.effect) if isinstance(bus.effect, Reverb) else -3.3
    else:
        target = DELAY_RETURN_LU.get(track.role, DELAY_RETURN_LU["lead_vocal"])
        gain = delay_gain_lu(bus.effect) if isinstance(bus.effect, Delay) else -0.75
    fader = bus.chain.fader_db if math.isfinite(bus.chain.fader_db) else 0.0
    return round(max(-60.0, min(12.0, target - gain - fader)), 1)


def _level(x: float) -> float:
    """A level (dB) rounded to 0.1 dB and kept at or under the model's +24 dB."""
    return round(min(24.0, x), 1)


def _sends(work: _Work, t: Track, which: str, step_db: float, *, off: bool, create: bool) -> str:
    """Move ``t``'s sends to the ``which`` buses (``reverb``, ``delay``, ``wet`` = both) by
    ``step_db``; switch them off with ``off``; with ``create``, open a send when raising and
    none is on."""
    buses = _effect_buses(work.session, which)
    word = {"wet": "reverb or delay", "reverb": "reverb", "delay": "delay"}[which]
    if not buses:
        aux = ", ".join(b.id for b in work.session.buses if b.kind == "aux") or "none"
        if step_db < 0 or off:
            return f"nothing to reduce (the session has no {word} bus; aux buses: {aux})"
        return f"the session has no {word} bus (aux buses: {aux}), so nothing changed"
    ids = {b.id for b in buses}
    active = [
        (i, s.bus, s.level_db)
        for i, s in enumerate(t.chain.sends)
        if s.bus in ids and s.level_db != -math.inf
    ]
    if active and (step_db < 0 or off):
        said = []
        for i, bus_id, old in active:
            new = -math.inf if off else round(old + step_db, 1)
            work.set(f"{_chain(work, t)}.sends[{i}].level_db", new, t.name, "dB")
            said.append(f"{bus_id} send off" if off else f"{bus_id} send {_fmt_db(new - old)}")
        return ", ".join(said)
    if step_db < 0 or off:
        return f"nothing to reduce (no {word} send is on)"
    if active:
        said = []
        for i, bus_id, old in active:
            new = _level(old + step_db)
            if work.set(f"{_chain(work, t)}.sends[{i}].level_db", new, t.name, "dB"):
                said.append(f"{bus_id} send {_fmt_db(new - old)}")
            else:
                said.append(f"{bus_id} send already at its limit")
        return ", ".join(said)
    if not create:
        return f"nothing to change (no {word} send is on)"
    # none on: open one to the main bus, at the level the space assistant starts from
    bus = next((b for b in buses if b.id in ("reverb", "delay")), buses[0])
    if which == "wet":
        bus = next((b for b in buses if _effect_kind(b) == "reverb"), bus)
    level = _level(
        _sensible_send_db(t, bus, _effect_kind(bus) or "reverb") + step_db - SEND_STEP_DB
    )
    idx = next((i for i, s in enumerate(t.chain.sends) if s.bus == bus.id), None)
    if idx is not None:
        work.set(
            f"{_chain(work, t)}.sends[{idx}].level_db",
            level,
            t.name,
            "dB",
            new_send_level_db=level,
        )
    else:
        sends = [s.model_copy() for s in t.chain.sends] + [Send(bus=bus.id, level_db=level)]
        work.set(f"{_chain(work, t)}.sends", sends, t.name, "sends", new_send_level_db=level)
    return f"new {bus.id} send at {level:.1f} dB"


def _compressor(work: _Work, prefix: str, name: str, amount: float) -> str:
    """More (``amount`` > 0) or less compression from the compressor at ``prefix``."""
    comp = work.get(prefix).model_copy()
    if amount > 0 and not comp.enabled:
        ratio = round(1.0 + 2.0 * amount, 2)
        thr = round(max(-80.0, -18.0 - COMP_THRESHOLD_STEP_DB * (amount - 1.0)), 1)
        work.set(f"{prefix}.enabled", True, name, "")
        work.set(f"{prefix}.ratio", ratio, name, ":1")
        work.set(f"{prefix}.threshold_db", thr, name, "dB")
        return f"compressor on at {ratio:g}:1, threshold {thr:.1f} dB"
    if amount < 0 and not comp.enabled:
        return "nothing to reduce (no compressor is on)"
    ratio = round(min(100.0, comp.ratio * COMP_RATIO_FACTOR**amount), 2)
    if ratio <= 1.1:
        work.set(f"{prefix}.enabled", False, name, "")
        return "compressor switched off"
    thr = round(max(-80.0, min(0.0, comp.threshold_db - COMP_THRESHOLD_STEP_DB * amount)), 1)
    work.set(f"{prefix}.ratio", ratio, name, ":1")
    work.set(f"{prefix}.threshold_db", thr, name, "dB")
    return (
        f"compressor ratio {comp.ratio:g} -> {ratio:g}:1, threshold "
        f"{comp.threshold_db:g} -> {thr:g} dB"
    )


def _punch(work: _Work, chain: str, role: str | None, name: str, amount: float) -> str:
    """The punch EQ for ``role`` on ``{chain}.eq``, and a slower attack on an active
    ``{chain}.compressor``."""
    low, high = PUNCH_BANDS.get(role or "", PUNCH_DEFAULT)
    (g_lo, q_lo), (g_hi, q_hi) = PUNCH_GAINS
    moves = [("peak", high, g_hi, q_hi)]
    if low is not None:
        moves.insert(0, ("peak", low, g_lo, q_lo))
    said = _eq(work, f"{chain}.eq", name, moves, amount)
    old = work.get(f"{chain}.compressor.attack_ms")
    if work.get(f"{chain}.compressor.enabled"):
        attack = round(max(0.01, min(1000.0, old * ATTACK_FACTOR**amount)), 2)
        if work.set(f"{chain}.compressor.attack_ms", attack, name, "ms"):
            said += f", compressor attack {old:g} -> {attack:g} ms"
    return said


def _fader(work: _Work, t: Track | Bus, step: float) -> str:
    """Move a track's (or a group bus's) fader by ``step`` dB."""
    old, word = t.chain.fader_db, "fader" if isinstance(t, Track) else "bus fader"
    if old == -math.inf:
        return f"no change: its {word} is off (-inf)"
    new = _level(old + step)
    path = _chain(work, t) if isinstance(t, Track) else _bus_chain(work, t)
    if not work.set(f"{path}.fader_db", new, t.name, "dB"):
        return f"no change: the {word} is at its limit ({_fmt_db(old)})"
    return f"{word} {_fmt_db(new - old)} (now {_fmt_db(new)})"


def _whole_group(session: Session, tracks: list[Track]) -> Bus | None:
    """The group bus whose members are exactly ``tracks`` (two or more), if there is one."""
    ids = {t.id for t in tracks}
    if len(ids) < 2:
        return None
    for b in session.buses:
        if b.kind == "group" and {t.id for t in session.tracks if t.bus == b.id} == ids:
            return b
    return None


def _ramp(work: _Work, t: Track, span: tuple[float, float], gain: float, why: str) -> str:
    """Fader automation: ``gain`` dB over ``span`` (s); a ramp over the same span deepens."""
    start, end = span
    ramps = [r.model_copy() for r in t.chain.automation]
    same = [i for i, r in enumerate(ramps) if abs(r.start_s - start) + abs(r.end_s - end) < 1e-3]
    where = f"from {start:g} to {end:g} s"
    if not same:
        gain = round(max(-48.0, min(48.0, gain)), 2)
        ramps.append(GainRamp(start_s=start, end_s=end, gain_db=gain, reason=why))
        said = f"fader {_fmt_db(gain)} {where}"
    else:
        k = same[0]
        old = ramps[k].gain_db
        new = round(max(-48.0, min(48.0, old + gain)), 2)
        ramps[k] = ramps[k].model_copy(update={"gain_db": new, "reason": why})
        said = f"fader {_fmt_db(new - old)} {where} (now {_fmt_db(new)})"
    work.set(f"{_chain(work, t)}.automation", ramps, t.name, "fader automation")
    return said


def _aux_returns(work: _Work, which: str, step: float, off: bool) -> list[tuple[str, str]]:
    """Move the ``which`` aux returns' faders by ``step`` dB (the whole mix's reverb)."""
    done = []
    for b in _effect_buses(work.session, which):
        old = b.chain.fader_db
        if old == -math.inf:
            done.append(("no change (the return is off)", b.name))
            continue
        new = -math.inf if off else _level(old + step)
        work.set(f"{_bus_chain(work, b)}.fader_db", new, b.name, "dB")
        done.append(("return off" if off else f"return fader {_fmt_db(new - old)}", b.name))
    if not done:
        word = {"wet": "reverb or delay", "reverb": "reverb", "delay": "delay"}[which]
        done.append((f"nothing changed: the session has no {word} bus", "the mix"))
    return done


def _on_mix(work: _Work, ask: _Ask, amount: float) -> list[tuple[str, str]]:
    """Act on the whole mix (the master chain and the aux returns)."""
    desc, master = ask.desc, work.session.master
    if desc.kind == "eq":
        return [(_eq(work, "master.eq", "master", EQ_MOVES[desc.base], amount), "the master")]
    if desc.kind == "punch":
        return [(_punch(work, "master", None, "master", amount), "the master")]
    if desc.kind == "dynamics":
        return [(_compressor(work, "master.compressor", "master", amount), "the master")]
    if desc.kind == "level":
        step = LEVEL_STEP_DB * amount
        if master.target_lufs is not None:
            old = master.target_lufs
            new = round(max(-40.0, min(-3.0, old + step)), 1)
            if work.set("master.target_lufs", new, "master", "LUFS"):
                return [(f"loudness target {old:g} -> {new:g} LUFS", "the master")]
            return [(f"no change: the loudness target is at its limit ({old:g})", "the master")]
        old = master.gain_db
        new = round(max(-48.0, min(48.0, old + step)), 1)
        if work.set("master.gain_db", new, "master", "dB"):
            return [(f"gain {_fmt_db(new - old)} (now {_fmt_db(new)})", "the master")]
        return [(f"no change: the gain is at its limit ({_fmt_db(old)})", "the master")]
    if desc.kind == "send":
        return _aux_returns(work, desc.base, SEND_STEP_DB * amount, ask.off and amount < 0)
    if desc.kind == "upfront":
        return _aux_returns(work, "wet", -UPFRONT_SEND_DB * amount, False)
    raise AssertionError(desc.kind)  # width and pan are handled per track


def _opposite(desc: Descriptor) -> Descriptor | None:
    for d in VOCABULARY:
        if d.kind == desc.kind and d.base == desc.base and d.sign == -desc.sign:
            return d
    return None


def _meaning(desc: Descriptor, direction: int) -> str:
    if direction > 0:
        return f"{desc.name} = {desc.meaning}"
    opp = _opposite(desc)
    if opp is not None:
        return f"less {desc.name}, i.e. {opp.name} = {opp.meaning}"
    return f"less {desc.name}; {desc.name} = {desc.meaning}"


def _join(per_target: list[tuple[str, str]]) -> str:
    """ "did X on A, B; did Y on C" from (what was done, target name) pairs."""
    groups: dict[str, list[str]] = {}
    for text, name in per_target:
        groups.setdefault(text, []).append(name)
    return "; ".join(f"{text} on {', '.join(names)}" for text, names in groups.items())


def _act(
    work: _Work, ask: _Ask, span: tuple[float, float] | None, refused: list[str]
) -> Request | None:
    """Carry out one request on the working copy; None (and a refusal) if it cannot apply."""
    desc = ask.desc
    amount = ask.direction * ask.strength * desc.sign  # > 0: more of the tabled action
    on_mix = ask.targets in (["mix"], ["master"])
    tracks = [] if on_mix else [work.session.track(i) for i in ask.targets]
    work.why = f'"{ask.phrase}": {_meaning(desc, ask.direction)}'
    work.evidence = {
        "request": ask.phrase,
        "descriptor": desc.name,
        "direction": ask.direction,
        "strength": round(ask.strength, 3),
    }
    first = len(work.changes)
    done: list[tuple[str, str]] = []
    notes: list[str] = []
    kind = desc.kind
    if span is not None:
        if kind not in ("level", "upfront"):
            refused.append(
                f"{ask.phrase!r}: a {desc.name} change applies to the whole song only; from "
                f"{span[0]:g} to {span[1]:g} s only level changes (louder, quieter, upfront, "
                "distant) can apply"
            )
            return None
        step = round((LEVEL_STEP_DB if kind == "level" else UPFRONT_LEVEL_DB) * amount, 2)
        for t in tracks or work.session.tracks:
            done.append((_ramp(work, t, span, step, ask.phrase), t.name))
        if on_mix:
            notes.append("the master has no automation, so every track moves")
        if kind == "upfront":
            notes.append("the reverb part applies to the whole song only and was left alone")
    elif kind in ("width", "pan") and on_mix:
        if kind == "pan":
            refused.append(f"{ask.phrase!r}: name the tracks to pan (the mix has no pan)")
            return None
        tracks = [t for t in work.session.tracks if t.source.channels > 1]
        notes.append("the master has no width control, so every stereo track changes")
    elif on_mix:
        done += _on_mix(work, ask, amount)
    group = _whole_group(work.session, tracks) if kind == "level" and span is None else None
    if group is not None:  # "drums louder" with the drums on their own bus: its fader
        done.append((_fader(work, group, LEVEL_STEP_DB * amount), group.name))
        tracks = []
    for t in tracks if span is None else []:
        chain = f"{_chain(work, t)}"
        if kind == "eq":
            said = _eq(work, f"{chain}.eq", t.name, EQ_MOVES[desc.base], amount)
        elif kind == "punch":
            said = _punch(work, chain, t.role, t.name, amount)
        elif kind == "dynamics":
            said = _compressor(work, f"{chain}.compressor", t.name, amount)
        elif kind == "level":
            said = _fader(work, t, LEVEL_STEP_DB * amount)
        elif kind == "send":
            off = ask.off and amount < 0
            said = _sends(work, t, desc.base, SEND_STEP_DB * amount, off=off, create=True)
        elif kind == "upfront":
            send = -UPFRONT_SEND_DB * amount
            said = _fader(work, t, UPFRONT_LEVEL_DB * amount)
            said += ", " + _sends(work, t, "wet", send, off=False, create=send > 0)
        elif kind == "width":
            said = _width(work, t, amount)
        else:
            said = _pan(work, t, desc.base, amount)
        done.append((said, t.name))

    read_as = "".join(f" (read {a!r} as {b!r})" for a, b in ask.fuzzy)
    if ask.ignored:
        notes.append(f"ignored {' '.join(ask.ignored)!r}")
    text = "; ".join([_join(done), *notes] if done else notes)
    return Request(
        phrase=ask.phrase,
        descriptor=desc.name,
        direction=ask.direction,
        strength=ask.strength,
        targets=list(ask.targets),
        explanation=f"{ask.phrase}{read_as}: {text} ({_meaning(desc, ask.direction)})",
        changes=work.changes[first:],
    )


def _width(work: _Work, t: Track, amount: float) -> str:
    if t.source.channels < 2:
        return "no change: a mono source has no width (pan it instead)"
    old = t.chain.width
    new = round(max(0.0, min(2.0, old + WIDTH_STEP * amount)), 3)
    if work.set(f"{_chain(work, t)}.width", new, t.name, ""):
        return f"width {old:g} -> {new:g}"
    return f"no change: the width is at its limit ({old:g})"


def _pan(work: _Work, t: Track, side: str, amount: float) -> str:
    old = t.chain.pan
    if side == "centre":
        if amount < 0 and old == 0:
            return "no change: it is centred (say left or right)"
        new = old * max(0.0, 1.0 - amount) if amount > 0 else old * (1.0 - 0.5 * amount)
    else:
        new = old + (-1.0 if side == "left" else 1.0) * PAN_STEP * amount
    new = round(max(-1.0, min(1.0, new)), 3)
    if work.set(f"{_chain(work, t)}.pan", new, t.name, ""):
        return f"pan {old:+.2f} -> {new:+.2f}"
    return f"no change: the pan is already {old:+.2f}"


# --------------------------------------------------------------------------------------------
# the entry point


def _span(
    session: Session, start_s: float | None, end_s: float | None
) -> tuple[float, float] | None:
    if start_s is None and end_s is None:
        return None
    start = 0.0 if start_s is None else float(start_s)
    if end_s is None:
        if session.length_s <= start:
            if start == 0.0:
                return None  # from the start, with no end: the whole song
            raise ParameterError(
                f"a request from {start:g} s needs an end time (the session is "
                f"{session.length_s:g} s long)"
            )
        end = session.length_s
    else:
        end = float(end_s)
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise ParameterError(
            f"the time range {start_s!r}-{end_s!r} s is not valid (need 0 <= start < end)"
        )
    if start == 0.0 and 0.0 < session.length_s <= end:
        return None  # the range is the whole song
    return start, end


def interpret(
    text: str, session: Session, *, start_s: float | None = None, end_s: float | None = None
) -> TweakPlan:
    """Map a request in words to parameter changes of ``session``.

    Parameters
    ----------
    text : free text, e.g. ``"warmer vocals, punchier drums, less reverb on the snare, bass a
        bit louder"``; several requests separated by commas, semicolons, full stops or "and"
    session : the mix; never modified (the changes are returned, to apply in order with
        :func:`mixwise.session.edit.apply_suggestion`)
    start_s, end_s : an optional time range (s, session timeline) for a timed comment: level
        requests become fader automation (:class:`~mixwise.session.model.GainRamp`) over it,
        other requests are refused. Only ``start_s``: to the end of the session.

    Returns
    -------
    TweakPlan : the requests understood, each with its changes (a later request sees the
        earlier ones, so "warmer, warmer" deepens one shelf), and the refusals with reasons.
    """
    if not isinstance(text, str):
        raise ParameterError(f"a request in words must be text, got {type(text).__name__}")
    span = _span(session, start_s, end_s)
    work = _Work(session.model_copy(deep=True))
    lex = _Lexicon(work.session)
    understood: list[Request] = []
    refused: list[str] = []
    for clause in _CLAUSES.split(text):
        if not clause.strip():
            continue
        parts = [lex.read(p) for p in _JOINERS.split(clause) if p and p.strip()]
        parts = [p for p in parts if p.items or p.has_target or p.unknown]
        for ask in _resolve(parts, lex, refused):
            req = _act(work, ask, span, refused)
            if req is not None:
                understood.append(req)
    return TweakPlan(understood=understood, not_understood=list(dict.fromkeys(refused)))
