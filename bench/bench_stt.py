"""Speech to text over the voice fixtures: ours beside plain faster-whisper base.

- **ours**: ``WhisperTranscriber`` as the bot runs it (Whisper base, int8, language ``fr``,
  VAD on, default temperature fallback) with a prompt and hotwords built by
  ``integrations.speech.context.speech_context`` from the demo artis.net's data: the sites
  and contacts of the actions of the demo rep ``demo.commercial``, as the bot will build them
  from a rep's own data (never from a transcript);
- **plain**: faster-whisper base with its defaults (int8, beam 5, no VAD) and only the
  language given: no prompt, no hotwords.

Each configuration runs in its own child process, one after the other in the same run, so
each peak memory (RSS, from ``getrusage``) is its own. Word error rate is normalised (lower
case, punctuation removed, numbers written out in French with num2words: see
``tests/speech_metrics.py``) and counted over all clips' words; RTF is transcription time
(decoding included, model load excluded) over audio duration; "its CPU" is the CPU time the
66 s note took, all threads together, which moves less than wall time when other jobs share
the machine (on 2 idle cores the wall time is a bit over half of it). Threads: CTranslate2
uses every core (2 here).

    .venv/bin/python bench/bench_stt.py [--verbose] [--only ours|plain] [--ablation]
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.speech_metrics import clips, normalise, word_errors  # noqa: E402

REP = "demo.commercial"


def demo_context() -> tuple[str | None, list[str]]:
    """Prompt and hotwords from the demo rep's actions (their sites and contacts)."""
    from integrations.artis.demo.seed import build_seed
    from integrations.speech.context import speech_context

    seed = build_seed(date(2026, 12, 2))
    sites = {s.id: s for s in seed.sites}
    people = {c.id: c for c in seed.contacts}
    actions = sorted((a for a in seed.actions if a.assignee_login == REP),
                     key=lambda a: a.planned_start, reverse=True)
    site_ids = list(dict.fromkeys(a.site_id for a in actions))
    contact_ids = list(dict.fromkeys(c for a in actions for c in a.contact_ids))
    ctx = speech_context(companies=[sites[i].company_name for i in site_ids],
                         contacts=[people[c].last_name for c in contact_ids if c in people],
                         places=[sites[i].city for i in site_ids])
    return ctx.prompt, ctx.hotwords


# Our transcriber with parts of the context or search turned off (--ablation):
# (prompt?, hotwords?, beam size).
OURS = {"ours": (True, True, 5), "vad-only": (False, False, 5),
        "prompt-only": (True, False, 5), "beam-1": (True, True, 1)}


def child(config: str) -> None:
    """Run one configuration over every clip; print one JSON line."""
    results = []
    started = time.perf_counter()
    if config in OURS:
        from integrations.speech.whisper import WhisperConfig, WhisperTranscriber

        use_prompt, use_hotwords, beam = OURS[config]
        prompt, hotwords = demo_context()
        prompt = prompt if use_prompt else None
        hotwords = hotwords if use_hotwords else []
        transcriber = WhisperTranscriber(WhisperConfig(cache_dir=ROOT / "data" / "models",
                                                       beam_size=beam), executor="thread")

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="every transcript")
    parser.add_argument("--only", choices=("ours", "plain"))
    parser.add_argument("--ablation", action="store_true",
                        help="also ours without hotwords, without prompt and hotwords (VAD "
                             "only), and with beam 1")
    parser.add_argument("--child", choices=(*OURS, "plain"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    refs = {c.file: c for c in clips()}
    runs = {}
    configs = [args.only] if args.only else ["ours", "plain"]
    if args.ablation:
        configs += ["prompt-only", "vad-only", "beam-1"]
    for config in configs:
        out = subprocess.run([sys.executable, __file__, "--child", config], check=True,
                             capture_output=True, text=True)
        runs[config] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{os.cpu_count()} cores; {len(refs)} clips, "
          f"{sum(r['duration'] for r in next(iter(runs.values()))['results'][1:]):.0f} s of audio")
    if "ours" in runs:
        print(f"ours: prompt {runs['ours']['results'][0]['prompt']!r}")
        print(f"ours: hotwords {' '.join(runs['ours']['results'][0]['hotwords'])!r}\n")
    header = (f"{'config':11} | {'WER all':>7} | {'WER short':>9} | {'worst clip':>10} | "
              f"{'RTF':>5} | {'66 s note':>9} | {'its CPU':>7} | {'load':>5} | {'peak RSS':>8}")
    print(header)
    print("-" * len(header))
    for config, run in runs.items():
        rows = run["results"][1:]
        errors = words = short_errors = short_words = 0
        worst = 0.0
        for row in rows:
            e, n = word_errors(refs[row["file"]].spoken_text, row["text"])
            errors, words = errors + e, words + n
            if row["file"] != "fr_a_long.ogg":
                short_errors, short_words = short_errors + e, short_words + n
                worst = max(worst, e / n)
            row["wer"] = e / n
        audio = sum(r["duration"] for r in rows)
        spent = sum(r["seconds"] for r in rows)
        long = next(r for r in rows if r["file"] == "fr_a_long.ogg")
        print(f"{config:11} | {errors / words:7.1%} | {short_errors / short_words:9.1%} | "
              f"{worst:10.1%} | {spent / audio:5.3f} | "
              f"{long['seconds']:6.1f} s | {long['cpu']:5.1f} s | "
              f"{run['results'][0]['load']:4.1f}s | "
              f"{run['peak_mb']:5.0f} MB")
    voices = sorted({refs[f].voice for f in refs})
    print("\nWER by voice (short clips): " + " | ".join(voices))
    for config, run in runs.items():
        cells = []
        for voice in voices:
            rows = [r for r in run["results"][1:]
                    if refs[r["file"]].voice == voice and r["file"] != "fr_a_long.ogg"]
            e = sum(word_errors(refs[r["file"]].spoken_text, r["text"])[0] for r in rows)
            n = sum(word_errors(refs[r["file"]].spoken_text, r["text"])[1] for r in rows)
            cells.append(f"{e / n:.1%} ({len(rows)} clips)")
        print(f"{config:11} | " + " | ".join(cells))
    if args.verbose:
        for config, run in runs.items():
            print(f"\n== {config}")
            for row in run["results"][1:]:
                print(f"{row['file']:14} {row['wer']:6.1%} {row['seconds']:5.1f}s  "
                      f"{normalise(row['text'])}")
                if row["wer"] > 0:
                    print(f"{'':14} {'ref':>6}         {normalise(refs[row['file']].spoken_text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
