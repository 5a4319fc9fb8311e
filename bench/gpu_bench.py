#!/usr/bin/env python3
"""GPU benchmark (issue #10): of3-trunk and of3-diffuse against the reference OpenFold3 model,
on the same card in one run.

    python3 bench/gpu_bench.py [--sizes 76 256 512 1024] [--cycles 4] [--steps 200]
        [--samples 5] [--device cuda] [-w CKPT] [--out DIR] [--no-ref] ...
    python3 bench/gpu_bench.py --merge A.json B.json [--out DIR]   (one table from several runs)

For each size N (tokens) it writes a query of one protein chain of N residues (the ubiquitin
sequence repeated, as the reference's synthetic input; no MSA files, so the featurizer gives the
query-only MSA and the empty template slots, as bench_ref.py does), runs of3-parse and
of3-featurize (CPU, timed but not GPU work), then of3-trunk and of3-diffuse as whole processes:
wall time from exec to exit (checkpoint loading, CUDA start-up and bundle writing included), and
peak GPU memory, the most `nvidia-smi --query-gpu=memory.used` showed while the stage ran (polled
every --poll-ms ms by nvidia-smi's own loop) less what it showed just before the stage started
(so the CUDA context counts). A stage that fails (exit status not 0, e.g. `--device cuda` while
the CUDA backend cannot run that stage yet) is reported as "not run: <its message>", and the
stages after it as "not run" with the reason.

Then the reference, in its own process per size so that the same nvidia-smi measure applies:
bench_ref.py from the vendor folder (bench/vendor.sh) with `--sizes N --modes fp32` (the
`run_openfold predict` default precision; --ref-modes adds bf16), giving the model's own trunk,
diffusion, confidence-head and forward times (CUDA events, model loading excluded: its README),
torch.cuda.max_memory_allocated, and the process's nvidia-smi peak as above.

Our programs and the reference compute with the same random model: unless -w names a checkpoint,
bench/ref_weights.py writes bench_ref.py's randomized model (same seed, same device) with
torch.save into --work.

Results go to --out (default $OUT when set, else bench/out): gpu_bench.json (every number and
message), gpu_bench.md (the tables, with card, date and settings), gpu_bench.log (the stages'
stderr and the reference's output). Both result files are rewritten after every step, so a run
cut short still leaves what it measured. --deadline S stops starting work S seconds after the
start (what is left is reported as not run), to end inside the run tool's limit."""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
DEFAULTS = {"cycles": 4, "steps": 200, "samples": 5}
T0 = time.monotonic()


def log(msg, logf=None):
    line = f"[{time.monotonic() - T0:7.1f}s] {msg}"
    print(line, flush=True)
    if logf:
        logf.write(line + "\n")
        logf.flush()


# --------------------------------------------------------------------------------------------
# GPU memory: nvidia-smi's own polling loop in the background
# --------------------------------------------------------------------------------------------
def smi_index(device):
    m = re.fullmatch(r"cuda(?::(\d+))?", device or "")
    return int(m.group(1) or 0) if m else None


def smi_used_mib(index):
    try:
        q = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                            "-i", str(index)], capture_output=True, text=True, timeout=20)
        return float(q.stdout.strip().splitlines()[0])
    except Exception:  # noqa: BLE001
        return None


class GpuPeak:
    """Largest memory.used (MiB) nvidia-smi reports while running; None without nvidia-smi."""

    def __init__(self, index, poll_ms):
        self.index, self.poll_ms = index, poll_ms
        self.base = self.peak = None
        self.samples = 0
        self.proc = None

    def __enter__(self):
        if self.index is None or shutil.which("nvidia-smi") is None:
            return self
        self.base = smi_used_mib(self.index)
        self.peak = self.base
        self.proc = subprocess.Popen(
            ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
             "-i", str(self.index), "-lms", str(self.poll_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        time.sleep(0.05)
        return self

    def _read(self):
        for line in self.proc.stdout:
            try:
                v = float(line.strip())
            except ValueError:
                continue
            self.samples += 1
            self.peak = v if self.peak is None else max(self.peak, v)

    def __exit__(self, *exc):
        if self.proc:
            time.sleep(2 * self.poll_ms / 1000)  # one more sample after the process ended
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.thread.join(2)
        return False

    def result(self):
        if self.base is None or self.peak is None:
            return None
        return {"peak_used_mib": self.peak, "before_mib": self.base,
                "peak_gib": round((self.peak - self.base) / 1024, 3), "samples": self.samples}


# --------------------------------------------------------------------------------------------
# Running a process: wall time, exit status, host peak RSS, stderr
# --------------------------------------------------------------------------------------------
def run_timed(argv, stderr_path, timeout, env=None, stdout_path=None):
    """Runs argv; returns {wall_s, rc, maxrss_mib, timed_out}. stderr (and stdout, when given a
    path) go to files."""
    with open(stderr_path, "wb") as err, \
            open(stdout_path or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=err, env=env, start_new_session=True)
        except OSError as e:
            err.write(f"{argv[0]}: {e}\n".encode())
            return {"wall_s": 0.0, "rc": 127, "maxrss_mib": None, "timed_out": False}
        timed_out = []

        def kill():
            timed_out.append(1)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": round(wall, 3), "rc": p.returncode, "maxrss_mib": round(ru.ru_maxrss / 1024, 1),
            "timed_out": bool(timed_out)}


def last_message(path, prog=None):
    """The failure message: the last stderr line naming the program (its error line), else the
    last non-empty line."""
    try:
        lines = [ln.strip() for ln in open(path, errors="replace").read().splitlines() if ln.strip()]
    except OSError:
        return ""
    if prog:
        named = [ln for ln in lines if ln.startswith(prog + ":") and "note:" not in ln]
        if named:
            return named[-1]
    return lines[-1] if lines else "(no message)"


def program_peak_gib(path):
    """A peak the program prints itself with -v (`peak GPU memory 1.23 GiB` or
    `peak device memory: 456 MiB`), if it does."""
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return None
    m = None
    for m in re.finditer(r"peak (?:GPU|device|backend) memory[^0-9]{0,12}([0-9.]+)\s*(GiB|MiB|GB|MB)", text,
                         re.I):
        pass
    if not m:
        return None
    v = float(m.group(1))
    return round(v / 1024 if m.group(2) in ("MiB", "MB") else v, 3)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
def write_query(path, n, name):
    seq = (UBIQUITIN * (n // len(UBIQUITIN) + 1))[:n]
    q = {"queries": {name: {"chains": [{"molecule_type": "protein", "chain_ids": ["A"],
                                        "sequence": seq}]}}}
    with open(path, "w") as f:
        json.dump(q, f, indent=1)


def bundle_meta(bindir, path):
    """The features bundle's meta (n_token, n_atom, n_msa, ...) from of3-inspect."""
    try:
        q = subprocess.run([os.path.join(bindir, "of3-inspect"), path], capture_output=True,
                           text=True, timeout=120)
        for line in q.stdout.splitlines():
            line = line.strip()
            if line.startswith("meta "):
                return json.loads(line[5:])
    except Exception:  # noqa: BLE001
        pass
    return {}


def nonfinite(bindir, path):
    """NaN and infinite values in a bundle, from of3-inspect's per-tensor lines (None if it
    cannot tell)."""
    try:
        q = subprocess.run([os.path.join(bindir, "of3-inspect"), path], capture_output=True,
                           text=True, timeout=300)
    except Exception:  # noqa: BLE001
        return None
    if q.returncode != 0:
        return None
    bad = 0
    for line in q.stdout.splitlines():
        m = re.match(r"\s*tensor\s+(\S+)\s.*\bnan (\d+)\s*$", line)
        if m:
            bad += int(m.group(2)) + (1 if re.search(r"\b(min|max) -?inf\b", line) else 0)
    return bad


# --------------------------------------------------------------------------------------------
# Environment description
# --------------------------------------------------------------------------------------------
def describe(args):
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "host_cpus": os.cpu_count()}
    idx = smi_index(args.device)
    if idx is not None and shutil.which("nvidia-smi"):
        try:
            q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                                "clocks.max.sm,power.limit", "--format=csv,noheader", "-i", str(idx)],
                               capture_output=True, text=True, timeout=20)
            info["card"] = q.stdout.strip() or q.stderr.strip()
        except Exception as e:  # noqa: BLE001
            info["card"] = f"nvidia-smi failed: {e}"
    else:
        info["card"] = f"none (--device {args.device})"
    try:
        info["commit"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                                        capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        if info["commit"] and dirty:
            info["commit"] += " (with uncommitted changes)"
    except Exception:  # noqa: BLE001
        pass
    info["commit"] = info.get("commit") or os.environ.get("OF3_COMMIT", "unknown")
    try:
        v = subprocess.run([os.path.join(args.bin, "of3-trunk"), "--version"], capture_output=True,
                           text=True, timeout=20)
        info["of3_trunk_version"] = " | ".join(v.stdout.strip().splitlines())
    except Exception:  # noqa: BLE001
        pass
    return info


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
def f(v, fmt="{:.2f}"):
    return "" if v is None else fmt.format(v)


def stage_cell(st, key="wall_s"):
    if not st:
        return "—"
    if st.get("status") != "ok":
        return "not run" if st.get("status", "").startswith("not run") else st.get("status", "?")
    return f(st.get(key))


def ours_total(row):
    t, d = row.get("trunk") or {}, row.get("diffuse") or {}
    if t.get("status") == "ok" and d.get("status") == "ok":
        return t["wall_s"] + d["wall_s"]
    return None


def ours_peak(row):
    vals = [(row.get(s) or {}).get("gpu_peak_gib") for s in ("trunk", "diffuse")]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def markdown(doc):
    env, st = doc["env"], doc["settings"]
    out = ["# GPU benchmark (issue #10): of3 against the reference OpenFold3 model", ""]
    for e in doc.get("runs", [env]):
        out.append(f"- card: {e.get('card')}; date: {e.get('date')}; commit: {e.get('commit')}")
    out += [f"- settings: {st['cycles']} trunk cycles, {st['steps']} steps, {st['samples']} samples, "
            f"--device {st['device']}, precision {st['precision'] or 'default (bf16)'}, "
            f"{st['repeats']} run(s) per stage (median); reference modes {' '.join(st['ref_modes'])}, "
            f"{st['ref_repeats']} timed forward(s) after one warm-up"
            f"{' (bench_ref.py ' + ' '.join(st['ref_extra']) + ')' if st.get('ref_extra') else ''}"
            f"; weights: {st['weights']}", ""]
    out += ["Ours: whole-process wall seconds (start-up, checkpoint loading and bundle writing "
            "included); peak GPU memory = most nvidia-smi `memory.used` during the stage less the "
            "value before it. Reference: bench_ref.py's CUDA-event times inside one "
            "`model.forward` (loading excluded), its `max_memory_allocated`, and its process's "
            "nvidia-smi peak measured as ours. Speed-up = reference forward / (our trunk + "
            "diffuse); memory ratio = our peak / reference nvidia-smi peak.", ""]
    hdr = ("| N tokens | atoms | parse + featurize s (CPU) | trunk s | diffuse s | ours total s | "
           "ours peak GiB | ref trunk s | ref diffusion s | ref heads s | ref forward s | "
           "ref peak alloc GiB | ref peak GiB (smi) | speed-up | memory ratio |")
    out += [hdr, "|" + "---:|" * 15]
    notes = []
    for row in doc["results"]:
        refs = [r for r in row.get("ref", []) if r.get("mode") == "fp32"] or row.get("ref", [])
        ref = refs[0] if refs else {}
        med = ref.get("median") or {}
        tot = ours_total(row)
        peak = ours_peak(row)
        ref_smi = (row.get("ref_process") or {}).get("gpu_peak_gib")
        speed = med["total"] / tot if tot and med.get("total") else None
        mem = peak / ref_smi if peak is not None and ref_smi else None
        pf = [(row.get(s) or {}).get("wall_s") for s in ("parse", "featurize")]
        pf_ok = all((row.get(s) or {}).get("status") == "ok" for s in ("parse", "featurize"))
        ref_err = ref.get("error") or (row.get("ref_process") or {}).get("status")
        ref_cells = ([f(med.get("trunk")), f(med.get("diffusion")), f(med.get("conf_heads"), "{:.3f}"),
                      f(med.get("total")), f(ref.get("peak_alloc_gib") or None), f(ref_smi)]
                     if med else [ref_err if ref_err and ref_err != "ok" else "—", "", "", "", "", f(ref_smi)])
        out.append("| " + " | ".join([
            str(row["n_token"]), str(row.get("n_atom", "")) + (
                f" (ref {ref['n_atom']})" if ref.get("n_atom") not in (None, row.get("n_atom")) else ""),
            f(sum(pf)) if pf_ok else stage_cell(row.get("parse") if (row.get("parse") or {}).get("status") != "ok"
                                                else row.get("featurize")),
            stage_cell(row.get("trunk")), stage_cell(row.get("diffuse")), f(tot), f(peak),
            *ref_cells, f(speed, "{:.2f}x"), f(mem)]) + " |")
        if (row.get("diffuse") or {}).get("nonfinite_values"):
            notes.append(f"- N={row['n_token']} diffuse: {row['diffuse']['nonfinite_values']} NaN or "
                         "infinite values in the output bundle (of3-inspect)")
        if any(r.get("finite") is False for r in row.get("ref", [])):
            notes.append(f"- N={row['n_token']} reference: non-finite positions or pLDDT logits")
        for s in ("parse", "featurize", "trunk", "diffuse"):
            m = (row.get(s) or {}).get("message")
            if m and (row.get(s) or {}).get("status") != "ok":
                notes.append(f"- N={row['n_token']} {s}: {m}")
        if ref_err and ref_err != "ok":
            notes.append(f"- N={row['n_token']} reference: {ref_err}"
                         f"{': ' + ref['error_detail'] if ref.get('error_detail') else ''}"
                         f"{': ' + row['ref_process']['message'] if (row.get('ref_process') or {}).get('message') else ''}")
    if notes:
        out += ["", "Stages not run:", *notes]
    # the reference's other modes (bf16) and the per-stage detail
    extra = [(row, r) for row in doc["results"] for r in row.get("ref", []) if r.get("mode") != "fp32"]
    if extra:
        out += ["", "| N tokens | reference mode | trunk s | diffusion s | heads s | forward s | peak alloc GiB |",
                "|---:|---|---:|---:|---:|---:|---:|"]
        for row, r in extra:
            m = r.get("median") or {}
            out.append(f"| {row['n_token']} | {r['mode']} | {f(m.get('trunk'))} | {f(m.get('diffusion'))} | "
                       f"{f(m.get('conf_heads'), '{:.3f}')} | {f(m.get('total'))} | {f(r.get('peak_alloc_gib'))} |")
    out += ["", "| N tokens | stage | wall s | GPU peak GiB (smi) | peak by the program GiB | host peak RSS MiB |",
            "|---:|---|---:|---:|---:|---:|"]
    for row in doc["results"]:
        for s in ("parse", "featurize", "trunk", "diffuse"):
            x = row.get(s) or {}
            if not x:
                continue
            out.append(f"| {row['n_token']} | {s} | {stage_cell(x)} | {f(x.get('gpu_peak_gib'))} | "
                       f"{f(x.get('program_peak_gib'))} | {f(x.get('maxrss_mib'), '{:.0f}')} |")
        rp = row.get("ref_process") or {}
        if rp:
            out.append(f"| {row['n_token']} | reference process (import, build, warm-up, timed runs) | "
                       f"{f(rp.get('wall_s'))} | {f(rp.get('gpu_peak_gib'))} | | {f(rp.get('maxrss_mib'), '{:.0f}')} |")
    return "\n".join(out) + "\n"


def save(doc, outdir):
    tmp = os.path.join(outdir, "gpu_bench.json.tmp")
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
    os.replace(tmp, os.path.join(outdir, "gpu_bench.json"))
    with open(os.path.join(outdir, "gpu_bench.md"), "w") as fh:
        fh.write(markdown(doc))


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------
class Runner:
    def __init__(self, args, logf, weights_error=None):
        self.args, self.logf, self.weights_error = args, logf, weights_error
        self.gpu = smi_index(args.device)

    def remaining(self):
        ends = [e for e in (self.args.deadline and T0 + self.args.deadline,
                            self.args.deadline_at and time.monotonic() + self.args.deadline_at - time.time())
                if e]
        return min(ends) - time.monotonic() if ends else None

    def stage(self, name, argv, errpath, gpu=False, env=None, stdout_path=None, timeout=None,
              repeats=None):
        """One stage, --repeats times for our GPU stages (median wall), as a result dict."""
        rem = self.remaining()
        if rem is not None and rem < 5:
            return {"status": "not run: out of time (--deadline)", "message": "out of time (--deadline)"}
        timeout = timeout or self.args.stage_timeout
        if rem is not None:
            timeout = min(timeout, rem) if timeout else rem
        reps = repeats or (self.args.repeats if gpu else 1)
        runs = []
        for i in range(reps):
            with GpuPeak(self.gpu if gpu else None, self.args.poll_ms) as mon:
                r = run_timed(argv, errpath, timeout, env=env, stdout_path=stdout_path)
            r["gpu"] = mon.result()
            runs.append(r)
            with open(errpath, errors="replace") as fh:
                text = fh.read()
            self.logf.write(f"----- {name} run {i + 1}: {' '.join(argv)}\n{text[-20000:]}\n")
            self.logf.flush()
            if r["rc"] != 0:
                break
        last = runs[-1]
        res = {"argv": argv, "runs": runs, "maxrss_mib": last["maxrss_mib"]}
        if last["rc"] != 0:
            msg = (f"timed out after {timeout:.0f} s" if last["timed_out"]
                   else last_message(errpath, os.path.basename(argv[0])))
            res.update(status=f"not run: {msg}", message=msg, rc=last["rc"], wall_s=last["wall_s"])
            log(f"{name}: not run (exit {last['rc']}): {msg}", self.logf)
            return res
        res["status"] = "ok"
        res["wall_s"] = round(statistics.median(r["wall_s"] for r in runs), 3)
        peaks = [r["gpu"]["peak_gib"] for r in runs if r["gpu"]]
        res["gpu_peak_gib"] = max(peaks) if peaks else None
        res["program_peak_gib"] = program_peak_gib(errpath)
        log(f"{name}: {res['wall_s']:.2f} s" +
            (f", GPU peak {res['gpu_peak_gib']:.2f} GiB" if res["gpu_peak_gib"] is not None else ""),
            self.logf)
        return res

    def size(self, n, weights, row, doc, outdir):
        a, w = self.args, self.args.work
        b = lambda p: os.path.join(a.bin, p)  # noqa: E731
        base = os.path.join(w, f"n{n}")
        write_query(base + ".json", n, f"bench_{n}")
        row["parse"] = self.stage(f"N={n} of3-parse", [b("of3-parse"), base + ".json", "-o", base + ".asm"],
                                  base + ".parse.err")
        save(doc, outdir)
        if row["parse"]["status"] == "ok":
            row["featurize"] = self.stage(f"N={n} of3-featurize",
                                          [b("of3-featurize"), base + ".asm", "-o", base + ".features"],
                                          base + ".featurize.err")
        else:
            row["featurize"] = {"status": "not run: of3-parse did not run", "message": "of3-parse did not run"}
        if row["featurize"]["status"] == "ok":
            meta = bundle_meta(a.bin, base + ".features")
            row.update({k: meta[k] for k in ("n_atom", "n_msa", "n_templ") if k in meta})
            if meta.get("n_token") not in (None, n):
                row["note"] = f"featurized to {meta['n_token']} tokens"
        save(doc, outdir)
        common = ["-w", weights or "", "--device", a.device, "-v", "--progress"] + (["--precision", a.precision] if a.precision else [])
        if weights is None:
            row["trunk"] = {"status": f"not run: no weights ({self.weights_error})",
                            "message": f"no weights: {self.weights_error}"}
        elif row["featurize"]["status"] == "ok":
            row["trunk"] = self.stage(f"N={n} of3-trunk",
                                      [b("of3-trunk"), *common, "--cycles", str(a.cycles),
                                       "-o", base + ".trunk", base + ".features"], base + ".trunk.err", gpu=True)
        else:
            row["trunk"] = {"status": "not run: no features", "message": "no features bundle"}
        save(doc, outdir)
        if row["trunk"]["status"] == "ok":
            row["diffuse"] = self.stage(f"N={n} of3-diffuse",
                                        [b("of3-diffuse"), *common, "--steps", str(a.steps), "--samples",
                                         str(a.samples), "-o", base + ".diffuse", base + ".trunk"],
                                        base + ".diffuse.err", gpu=True)
        else:
            row["diffuse"] = {"status": "not run: needs the trunk's output (trunk not run)",
                              "message": "needs the trunk bundle, and of3-trunk did not run"}
        if row["diffuse"]["status"] == "ok":
            row["diffuse"]["nonfinite_values"] = nonfinite(a.bin, base + ".diffuse")
        save(doc, outdir)
        for ext in (".trunk", ".diffuse"):  # large at N=1024 (z_trunk: N^2 x 128 floats)
            if os.path.exists(base + ext) and not a.keep:
                os.unlink(base + ext)
        if a.ref:
            self.reference(n, row, doc, outdir)

    def reference(self, n, row, doc, outdir):
        a = self.args
        refjson = os.path.join(a.work, f"ref_{n}.json")
        if os.path.exists(refjson):
            os.unlink(refjson)
        argv = [sys.executable, "-u", os.path.join(a.vendor, "bench_ref.py"), "--sizes", str(n),
                "--modes", *a.ref_modes, "--repeats", str(a.ref_repeats), "--repeats-large",
                str(a.ref_repeats), "--device", a.ref_device or a.device, "--seed", str(a.seed),
                "--out", refjson]
        # debug-size runs: the reference gets the same settings (bench_ref.py flags them)
        if a.cycles != DEFAULTS["cycles"]:
            argv += ["--recycles", str(a.cycles - 1)]
        if a.steps != DEFAULTS["steps"]:
            argv += ["--steps", str(a.steps)]
        if a.samples != DEFAULTS["samples"]:
            argv += ["--samples", str(a.samples)]
        argv += a.ref_extra
        env = dict(os.environ, OF3_REF_VENDOR=a.vendor, PYTHONUNBUFFERED="1")
        gpu_saved, self.gpu = self.gpu, smi_index(a.ref_device or a.device)
        try:
            rp = self.stage(f"N={n} reference", argv, refjson + ".err", gpu=True, env=env,
                            stdout_path=refjson + ".out", timeout=a.ref_timeout, repeats=1)
        finally:
            self.gpu = gpu_saved
        if rp.get("runs"):
            rp["runs"] = rp["runs"][:1]
        try:
            with open(refjson + ".out", errors="replace") as fh:
                self.logf.write(f"----- N={n} reference stdout\n{fh.read()[-20000:]}\n")
        except OSError:
            pass
        try:
            with open(refjson) as fh:
                rdoc = json.load(fh)
            row["ref"] = rdoc.get("results", [])
            doc.setdefault("ref_meta", rdoc.get("meta"))
            for r in row["ref"]:  # keep the medians and peaks, not every run's detail twice
                r.pop("runs", None)
        except (OSError, ValueError) as e:
            row["ref"] = []
            if rp["status"] == "ok":
                rp["status"], rp["message"] = f"not run: no results ({e})", str(e)
        row["ref_process"] = {k: rp.get(k) for k in ("status", "message", "wall_s", "gpu_peak_gib", "maxrss_mib", "rc")}
        if rp["status"] != "ok":
            row["ref_process"]["message"] = rp.get("message") or last_message(refjson + ".err")
        save(doc, outdir)


def make_weights(args, logf):
    """bench_ref.py's random model, saved for our programs (bench/ref_weights.py)."""
    path = os.path.join(args.work, f"of3_bench_ref_seed{args.seed}_{(args.ref_device or args.device).replace(':', '')}.pt")
    if os.path.exists(path):
        log(f"weights: reusing {path}", logf)
        return path, None
    argv = [sys.executable, os.path.join(REPO, "bench", "ref_weights.py"), path, "--seed", str(args.seed),
            "--device", args.ref_device or args.device]
    env = dict(os.environ, OF3_REF_VENDOR=args.vendor)
    err = os.path.join(args.work, "ref_weights.err")
    r = run_timed(argv, err, 900, env=env, stdout_path=err + ".out")
    logf.write(f"----- ref_weights: {' '.join(argv)}\n{open(err, errors='replace').read()[-5000:]}\n")
    if r["rc"] != 0:
        return None, last_message(err)
    log(f"weights: {path} in {r['wall_s']:.1f} s", logf)
    return path, r["wall_s"]


def merge(paths, outdir):
    docs = [json.load(open(p)) for p in paths]
    doc = dict(docs[0])
    doc["runs"] = [d["env"] for d in docs]
    rows = {}
    for d in docs:
        for row in d["results"]:
            rows[row["n_token"]] = row  # a later file's row replaces an earlier one
    doc["results"] = [rows[k] for k in sorted(rows)]
    doc["merged_from"] = paths
    cards = {d["env"].get("card") for d in docs}
    if len(cards) > 1:
        print(f"warning: the runs were on different cards: {cards}", file=sys.stderr)
    os.makedirs(outdir, exist_ok=True)
    save(doc, outdir)
    print(markdown(doc))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--sizes", type=int, nargs="+", default=[76, 256, 512, 1024])
    ap.add_argument("--cycles", type=int, default=DEFAULTS["cycles"], help="trunk cycles (default 4)")
    ap.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="diffusion steps (default 200)")
    ap.add_argument("--samples", type=int, default=DEFAULTS["samples"], help="diffusion samples (default 5)")
    ap.add_argument("--device", default="cuda", help="our programs' --device (default cuda)")
    ap.add_argument("--precision", default=None, help="our programs' --precision (default: theirs, bf16)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each of our GPU stages (median)")
    ap.add_argument("-w", "--weights", help="checkpoint for our programs (default: bench_ref.py's random "
                    "model, written by bench/ref_weights.py into --work)")
    ap.add_argument("--seed", type=int, default=0, help="bench_ref.py's weight seed (default 0)")
    ap.add_argument("--no-ref", dest="ref", action="store_false", help="skip the reference model")
    ap.add_argument("--ref-device", help="the reference's device (default: --device)")
    ap.add_argument("--ref-modes", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    ap.add_argument("--ref-repeats", type=int, default=1, help="timed forwards after the warm-up (default 1)")
    ap.add_argument("--ref-extra", nargs=argparse.REMAINDER, default=[],
                    help="further bench_ref.py arguments (debug knobs: --pairformer-blocks 2 ...); last")
    ap.add_argument("--ref-timeout", type=float, default=1800)
    ap.add_argument("--stage-timeout", type=float, default=1800, help="seconds per stage run")
    ap.add_argument("--deadline", type=float, default=None,
                    help="start no work after this many seconds from the start (default: none)")
    ap.add_argument("--deadline-at", type=float, default=None, metavar="EPOCH",
                    help="the same as an absolute time, seconds since 1970 (`date +%%s`)")
    ap.add_argument("--poll-ms", type=int, default=50)
    ap.add_argument("--bin", default=os.path.join(REPO, "bin"))
    ap.add_argument("--vendor", default=os.environ.get("OF3_REF_VENDOR", os.path.join(REPO, "bench", "vendor")))
    ap.add_argument("--work", default=os.environ.get("OF3_BENCH_WORK", "/tmp/of3-bench"),
                    help="scratch folder: queries, bundles, the checkpoint (default /tmp/of3-bench)")
    ap.add_argument("--out", default=os.environ.get("OUT") or os.path.join(REPO, "bench", "out"))
    ap.add_argument("--keep", action="store_true", help="keep the trunk and diffuse bundles")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="only combine earlier gpu_bench.json files")
    args = ap.parse_args()

    if args.merge:
        merge(args.merge, args.out)
        return 0
    args.vendor = os.path.abspath(args.vendor)
    args.bin = os.path.abspath(args.bin)
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.out, "gpu_bench.log"), "a")
    doc = {"env": describe(args), "results": []}
    if args.ref and not os.path.isfile(os.path.join(args.vendor, "bench_ref.py")):
        log(f"reference: not run: no {args.vendor}/bench_ref.py (run bench/vendor.sh)", logf)
        args.ref = False
        doc["reference_not_run"] = "no vendored reference (bench/vendor.sh)"
    weights = args.weights
    if not weights:
        weights, info = make_weights(args, logf)
        if weights is None:
            log(f"weights: bench/ref_weights.py failed: {info}", logf)
            doc["weights_error"] = info
        doc["weights_s"] = info
    doc["settings"] = {"sizes": args.sizes, "cycles": args.cycles, "steps": args.steps,
                       "samples": args.samples, "device": args.device, "precision": args.precision,
                       "repeats": args.repeats, "ref": args.ref, "ref_modes": args.ref_modes,
                       "ref_repeats": args.ref_repeats, "ref_extra": args.ref_extra,
                       "weights": (os.path.basename(weights) + (" (given)" if args.weights else
                                   " (bench_ref.py's random model, seed %d)" % args.seed)) if weights else None}
    log(f"card: {doc['env']['card']}; commit {doc['env']['commit']}", logf)
    runner = Runner(args, logf, doc.get("weights_error"))
    for n in args.sizes:
        row = {"n_token": n}
        doc["results"].append(row)
        runner.size(n, weights, row, doc, args.out)
        save(doc, args.out)
    md = markdown(doc)
    print(md)
    log(f"results: {args.out}/gpu_bench.md, gpu_bench.json, gpu_bench.log", logf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
