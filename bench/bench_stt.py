"""Speech to text over the voice fixtures: ours beside plain faster-whisper base.

- **ours**: ``WhisperTranscriber`` as the bot runs it (Whisper base, int8, language ``fr``,
  beam 5, VAD cutting pauses of 500 ms, default temperature fallback) with a prompt and
  hotwords built by ``integrations.speech.context.speech_context`` from the demo artis.net's
  data: the sites, contacts and subjects of the actions of the demo rep ``demo.commercial``,
  today's first, as the bot builds them from a rep's own data (never from a transcript);
- **plain**: faster-whisper base with its defaults (int8, beam 5, no VAD) and only the
  language given: no prompt, no hotwords.

Each configuration runs in its own child process, one after the other in the same run, so
each peak memory (RSS, from ``getrusage``) is its own. ``--sweep`` adds the decoding variants
(``VARIANTS``: each changes one option of ours), all in one more child with one model load.
Word error rate is normalised on both sides (``tests/speech_metrics.py``: lower case,
punctuation removed, numbers, times and ordinals written out in French with num2words, « M. »
and « St » spelled out) and counted over all clips' words; RTF is transcription time
(decoding included, model load excluded) over audio duration; "its CPU" is the CPU time the
66 s note took, all threads together, which moves less than wall time when other jobs share
the machine; "≈ 60 s" is the 66 s note's wall time scaled to 60 s (the issue's goal).
CTranslate2 uses every core (2 here). The load average before and after is printed: other
engineers' jobs share the 2 cores, and wall times move with them.

    .venv/bin/python bench/bench_stt.py [--verbose] [--only ours|plain] [--sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.speech_metrics import clips, normalise, word_errors  # noqa: E402

if TYPE_CHECKING:
    from integrations.artis.models import Action

REP = "demo.commercial"
LONG = "fr_a_long.ogg"
TODAY = date(2026, 12, 2)


def demo_context(*, topics: bool = True) -> tuple[str | None, list[str]]:
    """Prompt and hotwords from the demo rep's actions (their sites, contacts and subjects),
    as the bot builds them: the actions of the day first, then the nearest days (the day
    before ahead of the day after), so the names a rep is most likely to dictate win the
    length budget. ``topics=False``: without the subjects (a --sweep variant)."""
    from integrations.artis.demo.seed import build_seed
    from integrations.speech.context import speech_context

    seed = build_seed(TODAY)
    sites = {s.id: s for s in seed.sites}
    people = {c.id: c for c in seed.contacts}

    def nearness(action: Action) -> tuple[int, datetime]:
        days = (action.planned_start.date() - TODAY).days
        return abs(days) * 2 + (days > 0), action.planned_start

    actions = sorted((a for a in seed.actions if a.assignee_login == REP), key=nearness)
    site_ids = list(dict.fromkeys(a.site_id for a in actions))
    contact_ids = list(dict.fromkeys(c for a in actions for c in a.contact_ids))
    ctx = speech_context(companies=[sites[i].company_name for i in site_ids],
                         contacts=[people[c].last_name for c in contact_ids if c in people],
                         places=[sites[i].city for i in site_ids],
                         topics=[a.subject for a in actions] if topics else ())
    return ctx.prompt, ctx.hotwords


NO_TOPICS = "<the prompt without topics>"  # replaced in sweep_child

# --sweep: decoding variants, all in one child process with one model load. Each starts from
# the options the bot uses (``transcribe_options``, with the demo rep's prompt and hotwords)
# and changes one thing: (what it changes, keyword arguments for faster-whisper).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "ours": ("as the bot runs it", {}),
    "no-context": ("no prompt, no hotwords", {"initial_prompt": None, "hotwords": None}),
    "prompt-only": ("prompt, no hotwords", {"hotwords": None}),
    "hotwords-only": ("hotwords, no prompt", {"initial_prompt": None}),
    "no-topics": ("prompt without the actions' subjects", {"initial_prompt": NO_TOPICS}),
    "vad-default": ("VAD: faster-whisper's 2 000 ms pause, 400 ms pad",
                    {"vad_parameters": {"min_silence_duration_ms": 2000, "speech_pad_ms": 400}}),
    "vad-off": ("no VAD", {"vad_filter": False}),
    "beam-1": ("greedy", {"beam_size": 1}),
    "beam-3": ("beam 3", {"beam_size": 3}),
    "patience-2": ("beam patience 2", {"patience": 2.0}),
    "length-pen-1": ("length_penalty 1", {"length_penalty": 1.0}),
    "no-condition": ("condition_on_previous_text off", {"condition_on_previous_text": False}),
    "no-timestamps": ("without_timestamps", {"without_timestamps": True}),
    "repetition": ("repetition_penalty 1.1, no_repeat_ngram_size 3",
                   {"repetition_penalty": 1.1, "no_repeat_ngram_size": 3}),
    "chunk-20": ("20 s windows instead of 30", {"chunk_length": 20}),
}


def sweep_child() -> None:
    """Every variant over every clip with one model load; one JSON line per variant."""
    from faster_whisper import WhisperModel

    from integrations.speech.audio import decode
    from integrations.speech.model import resolve_model
    from integrations.speech.whisper import WhisperConfig, transcribe_options

    config = WhisperConfig(cache_dir=ROOT / "data" / "models")
    source = resolve_model(cache_dir=config.cache_dir)
    model = WhisperModel(source.model, device="cpu", compute_type="int8",
                         cpu_threads=min(4, os.cpu_count() or 1), num_workers=1)
    prompt, hotwords = demo_context()
    no_topics, _ = demo_context(topics=False)
    notes = [(clip.file, clip.path.read_bytes()) for clip in clips()]
    for name, (_what, changes) in VARIANTS.items():
        results: list[dict[str, Any]] = [{"load": 0.0}]
        for file, audio in notes:
            t0, c0 = time.perf_counter(), time.process_time()
            samples = decode(audio)
            options = {**transcribe_options(config, "fr", prompt, hotwords), **changes}
            if options["initial_prompt"] == NO_TOPICS:
                options["initial_prompt"] = no_topics
            segments, _ = model.transcribe(samples, **options)
            text = " ".join(s.text.strip() for s in segments)
            results.append({"file": file, "text": text, "duration": len(samples) / 16000,
                            "seconds": time.perf_counter() - t0,
                            "cpu": time.process_time() - c0})
        print(json.dumps({"config": name, "peak_mb": 0, "results": results}), flush=True)


def child(config: str) -> None:
    """Run one configuration over every clip; print one JSON line."""
    results = []
    started = time.perf_counter()
    if config == "ours":
        from integrations.speech.whisper import WhisperConfig, WhisperTranscriber

        prompt, hotwords = demo_context()
        transcriber = WhisperTranscriber(WhisperConfig(cache_dir=ROOT / "data" / "models"),
                                         executor="thread")

        async def run_all() -> None:
            await transcriber.load()
            nonlocal started
            load = time.perf_counter() - started
            results.append({"load": load, "prompt": prompt, "hotwords": hotwords})
            for clip in clips():
                audio = clip.path.read_bytes()
                t0, c0 = time.perf_counter(), time.process_time()
                out = await transcriber.transcribe(audio, language="fr", prompt=prompt,
                                                   hotwords=hotwords or None)
                results.append({"file": clip.file, "text": out.text, "duration": out.duration,
                                "seconds": time.perf_counter() - t0,
                                "cpu": time.process_time() - c0})
            await transcriber.aclose()

        asyncio.run(run_all())
    else:
        from faster_whisper import WhisperModel, decode_audio

        from integrations.speech.model import resolve_model

        source = resolve_model(cache_dir=ROOT / "data" / "models")
        model = WhisperModel(source.model, device="cpu", compute_type="int8")
        results.append({"load": time.perf_counter() - started})
        for clip in clips():
            t0, c0 = time.perf_counter(), time.process_time()
            samples = decode_audio(str(clip.path))
            segments, _ = model.transcribe(samples, language="fr")
            text = " ".join(s.text.strip() for s in segments)
            results.append({"file": clip.file, "text": text, "duration": len(samples) / 16000,
                            "seconds": time.perf_counter() - t0,
                            "cpu": time.process_time() - c0})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"config": config, "peak_mb": peak_mb, "results": results}))


def score(run: dict[str, Any], refs: dict[str, Any]) -> dict[str, float]:
    """WER (all clips, short clips, the long note), worst short clip, RTF, the long note."""
    rows = run["results"][1:]
    errors = words = short_errors = short_words = 0
    worst = 0.0
    for row in rows:
        e, n = word_errors(refs[row["file"]].spoken_text, row["text"])
        errors, words = errors + e, words + n
        row["wer"] = e / n
        if row["file"] != LONG:
            short_errors, short_words = short_errors + e, short_words + n
            worst = max(worst, e / n)
    long = next(r for r in rows if r["file"] == LONG)
    return {"wer": errors / words, "short": short_errors / short_words, "worst": worst,
            "long_wer": long["wer"], "rtf": sum(r["seconds"] for r in rows)
            / sum(r["duration"] for r in rows), "cpu": sum(r["cpu"] for r in rows),
            "long_s": long["seconds"], "long_cpu": long["cpu"],
            "sixty": long["seconds"] * 60 / long["duration"]}


def run_child(config: str) -> list[dict[str, Any]]:
    out = subprocess.run([sys.executable, __file__, "--child", config], check=True,
                         capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="every transcript")
    parser.add_argument("--only", choices=("ours", "plain"))
    parser.add_argument("--sweep", action="store_true",
                        help="also every decoding variant (VARIANTS), one model load")
    parser.add_argument("--child", choices=("ours", "plain", "sweep"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "sweep":
        sweep_child()
        return 0
    if args.child:
        child(args.child)
        return 0
    refs = {c.file: c for c in clips()}
    load_before = os.getloadavg()
    runs: dict[str, dict[str, Any]] = {}
    for config in [args.only] if args.only else ["ours", "plain"]:
        runs[config] = run_child(config)[0]
    variants = {run["config"]: run for run in run_child("sweep")} if args.sweep else {}
    load_after = os.getloadavg()
    first = next(iter(runs.values()))["results"][1:]
    print(f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before the run and "
          f"{load_after[0]:.1f} after (other jobs share the machine: wall times move with it; "
          f"CPU times move less); {len(refs)} clips, "
          f"{sum(r['duration'] for r in first):.0f} s of audio")
    if "ours" in runs:
        print(f"ours: prompt {runs['ours']['results'][0]['prompt']!r}")
        print(f"ours: hotwords {' '.join(runs['ours']['results'][0]['hotwords'])!r}\n")
    header = (f"{'config':7} | {'WER all':>7} | {'WER short':>9} | {'worst clip':>10} | "
              f"{'RTF':>5} | {'66 s note':>9} | {'its CPU':>7} | {'≈ 60 s':>6} | {'load':>5} | "
              f"{'peak RSS':>8}")
    print(header)
    print("-" * len(header))
    for config, run in runs.items():
        m = score(run, refs)
        print(f"{config:7} | {m['wer']:7.1%} | {m['short']:9.1%} | {m['worst']:10.1%} | "
              f"{m['rtf']:5.3f} | {m['long_s']:7.1f} s | {m['long_cpu']:5.1f} s | "
              f"{m['sixty']:4.1f} s | {run['results'][0]['load']:4.1f}s | "
              f"{run['peak_mb']:5.0f} MB")
    voices = sorted({refs[f].voice for f in refs})
    print("\nWER by voice (short clips): " + " | ".join(voices))
    for config, run in runs.items():
        cells = []
        for voice in voices:
            rows = [r for r in run["results"][1:]
                    if refs[r["file"]].voice == voice and r["file"] != LONG]
            e = sum(word_errors(refs[r["file"]].spoken_text, r["text"])[0] for r in rows)
            n = sum(word_errors(refs[r["file"]].spoken_text, r["text"])[1] for r in rows)
            cells.append(f"{e / n:.1%} ({len(rows)} clips)")
        print(f"{config:7} | " + " | ".join(cells))
    if variants:
        print("\nDecoding variants, one model load, each from ours changing one thing:")
        header = (f"{'variant':14} | {'WER all':>7} | {'WER short':>9} | {'66 s WER':>8} | "
                  f"{'CPU, all':>8} | {'RTF':>5} | {'66 s note':>9} | {'its CPU':>7} | "
                  f"what")
        print(header)
        print("-" * len(header))
        for name, run in variants.items():
            m = score(run, refs)
            print(f"{name:14} | {m['wer']:7.1%} | {m['short']:9.1%} | {m['long_wer']:8.1%} | "
                  f"{m['cpu']:6.1f} s | {m['rtf']:5.3f} | {m['long_s']:7.1f} s | "
                  f"{m['long_cpu']:5.1f} s | {VARIANTS[name][0]}")
    if args.verbose:
        for config, run in {**runs, **variants}.items():
            print(f"\n== {config}")
            for row in run["results"][1:]:
                print(f"{row['file']:14} {row['wer']:6.1%} {row['seconds']:5.1f}s  "
                      f"{normalise(row['text'])}")
                if row["wer"] > 0:
                    print(f"{'':14} {'ref':>6}         {normalise(refs[row['file']].spoken_text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
