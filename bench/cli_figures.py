"""Figure 6: wall time of `followupd --help` and `followupd list --json` (empty state)
against `gcalcli --help`, side by side in one run (hyperfine when installed)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from common import PYTHON, ROOT, Figure, median, show

RUNS = 15  # per command (>= 7)
WARMUP = 3
GCALCLI_VENV = ROOT / "bench" / ".venv-gcalcli"
FOLLOWUPD = Path(PYTHON).parent / "followupd"


def ensure_gcalcli() -> tuple[Path | None, str]:
    """bench/.venv-gcalcli/bin/gcalcli, installed from PyPI on first use."""
    exe = GCALCLI_VENV / "bin" / "gcalcli"
    if exe.exists():
        return exe, ""
    print(f"  installing gcalcli into {GCALCLI_VENV} (first run only)...", flush=True)
    try:
        subprocess.run([PYTHON, "-m", "venv", "--clear", str(GCALCLI_VENV)], check=True,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
        subprocess.run([str(GCALCLI_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                        "gcalcli>=4.5,<4.6"], check=True, capture_output=True, text=True,
                       timeout=600)  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return None, f"gcalcli could not be installed: {detail.strip().splitlines()[-1:]}"
    return (exe, "") if exe.exists() else (None, "gcalcli installed no `gcalcli` script")


def _hyperfine(
    commands: dict[str, list[str]], env: dict[str, str], workdir: Path
) -> dict[str, float]:
    out = workdir / "hyperfine.json"
    subprocess.run(
        ["hyperfine", "-N", "--warmup", str(WARMUP), "--runs", str(RUNS), "--style", "none",
         "--export-json", str(out), *(shlex.join(cmd) for cmd in commands.values())],
        check=True, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    results = json.loads(out.read_text())["results"]
    return {name: float(r["median"]) for name, r in zip(commands, results, strict=True)}


def _subprocess_timing(commands: dict[str, list[str]], env: dict[str, str]) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(WARMUP + RUNS):  # interleaved: load on the machine hits all alike
        for name, cmd in commands.items():
            started = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
            if i >= WARMUP:
                samples[name].append(time.perf_counter() - started)
    return {name: median(values) for name, values in samples.items()}


def cli_figures(workdir: Path) -> list[Figure]:
    home = workdir / "cli-home"
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"), HOME=str(home))  # fmt: skip
    env.pop("FOLLOWUPD_CONFIG", None)
    home.mkdir(parents=True, exist_ok=True)
    listed = subprocess.run([str(FOLLOWUPD), "list", "--json"], env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    if listed.returncode != 0 or json.loads(listed.stdout) != []:
        raise RuntimeError(f"`followupd list --json` on an empty state: {listed!r}")
    commands = {
        "followupd --help": [str(FOLLOWUPD), "--help"],
        "followupd list --json": [str(FOLLOWUPD), "list", "--json"],
    }
    gcalcli, problem = ensure_gcalcli()
    if gcalcli is not None:
        commands["gcalcli --help"] = [str(gcalcli), "--help"]
    tool = "hyperfine" if shutil.which("hyperfine") else "subprocess timing"
    times = (_hyperfine(commands, env, workdir) if tool == "hyperfine"
             else _subprocess_timing(commands, env))  # fmt: skip
    how = f"median of {RUNS} runs after {WARMUP} warm-ups, {tool}"
    figures = []
    base = times.get("gcalcli --help")
    for name in ("followupd --help", "followupd list --json"):
        ms = times[name] * 1000
        if base is None:
            figures.append(show(Figure(
                f"wall time of `{name}`", f"{ms:.0f} ms ({how})",
                "<= 0.25 x gcalcli --help: SKIPPED", None, [problem],
            )))  # fmt: skip
            continue
        ratio = times[name] / base
        figures.append(show(Figure(
            f"wall time of `{name}` vs `gcalcli --help`",
            f"{ms:.0f} ms vs {base * 1000:.0f} ms, ratio {ratio:.2f}",
            "<= 0.25 x gcalcli", ratio <= 0.25, [how],
        )))  # fmt: skip
    return figures
