#!/usr/bin/env python3
"""ComfyUI idle watchdog: the GPU instance's own, fourth stop path.

Run once a minute by comfyui-watchdog.timer. Each run:
  1. samples ComfyUI's /queue (running + pending), the GPUs' utilisation (nvidia-smi) and the CPU (/proc/stat,
     against the previous run's counters);
  2. publishes the queue depth as Ziggie/ComfyUI QueueDepth {InstanceId} -- only when /queue answered, because the
     gpu-control Lambda reads a recent datapoint as "ComfyUI answers";
  3. decides (decide(), a pure function) whether the instance has been idle for idle_minutes and, if so, powers
     it off (the launch template's shutdown behaviour is "stop", so the disk is kept).

Publishing: the metric is written in CloudWatch embedded metric format (EMF) to the CloudWatch agent's EMF
listener (tcp://127.0.0.1:25888, "logs.metrics_collected.emf" in the agent config). The agent holds the instance
profile's credentials and ships it; this script needs no credentials, no boto3 and no AWS CLI. When the agent does
not answer and the AWS CLI is installed, it falls back to `aws cloudwatch put-metric-data`.

Python 3 standard library only: it is on every Ubuntu image. State lives in /run (tmpfs), so every boot starts a
fresh idle clock: an instance that was stopped idle is never powered off again the minute it is started.

Operators: `comfyui-watchdog --dry-run` prints the decision without acting; touch /etc/ziggie/watchdog.inhibit
(or /run/ziggie-watchdog/inhibit, gone at the next boot) to keep the instance up while you work on it.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

DEFAULT_CONFIG = "/etc/ziggie/comfyui-watchdog.json"

DEFAULTS = {
    "comfyui_url": "http://127.0.0.1:8188",
    "idle_minutes": 10,
    "thresholds": {"cpu_percent": 10, "gpu_percent": 5, "queue_depth": 1},
    "metric": {"namespace": "Ziggie/ComfyUI", "name": "QueueDepth", "dimension": "InstanceId"},
    "emf": {"address": "tcp://127.0.0.1:25888", "log_group": "/ziggie/comfyui", "log_stream": "comfyui-watchdog"},
    "state_file": "/run/ziggie-watchdog/state.json",
    "poweroff_command": ["systemctl", "poweroff"],
    "inhibit_files": ["/etc/ziggie/watchdog.inhibit", "/run/ziggie-watchdog/inhibit"],
    "imds_url": "http://169.254.169.254",
    "instance_id": None,
    "nvidia_smi": "nvidia-smi",
    "aws_cli_fallback": True,
    "timeout_seconds": 5,
    "worker_status_file": None,
    "worker_status_max_age_seconds": 180,
}


# --------------------------------------------------------------------------------------------------------------
# The decision: pure functions, no I/O (unit-tested on their own in test/unit/ami/test_watchdog.py).
# --------------------------------------------------------------------------------------------------------------

def queue_depth(queue_json):
    """Items running + pending in ComfyUI's /queue answer ({"queue_running": [...], "queue_pending": [...]})."""
    if not isinstance(queue_json, dict):
        raise ValueError("/queue did not answer with a JSON object")
    running = queue_json.get("queue_running", [])
    pending = queue_json.get("queue_pending", [])
    if not isinstance(running, list) or not isinstance(pending, list):
        raise ValueError("/queue: queue_running and queue_pending must be lists")
    return len(running) + len(pending)


def parse_nvidia_smi(text):
    """Per-GPU utilisation (percent) from `nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits`."""
    values = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            values.append(float(line.split(",")[0].strip().rstrip("%").strip()))
        except ValueError:
            continue  # "[N/A]" or "[Not Supported]": no number for that GPU
    return values


def cpu_counters(proc_stat_text):
    """(busy, total) jiffies from the aggregate "cpu" line of /proc/stat; iowait counts as idle."""
    for line in proc_stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            numbers = [int(x) for x in fields[1:]]
            # user nice system idle iowait irq softirq steal [guest guest_nice: already inside user/nice]
            total = sum(numbers[:8])
            idle = numbers[3] + (numbers[4] if len(numbers) > 4 else 0)
            return [total - idle, total]
    raise ValueError("/proc/stat has no aggregate cpu line")


def cpu_percent(previous, current):
    """CPU busy percent between two cpu_counters() samples, or None without a usable previous sample."""
    if not previous or not current:
        return None
    busy = current[0] - previous[0]
    total = current[1] - previous[1]
    if total <= 0 or busy < 0:
        return None
    return 100.0 * busy / total


def decide(sample, state, config, now):
    """Is the instance idle, since when, and is it time to power off?

    sample: {"queue": int|None (None: /queue did not answer), "gpu": [percent, ...]|None (None: no nvidia-smi),
             "cpu": percent|None, "inhibited": bool,
             "jobs": int|None (SQS jobs waiting or in flight, from the worker's status file; None: unknown)}
    state:  what the previous run returned as "state" ({} on the first run after boot)
    config: thresholds + idle_minutes; now: seconds since the epoch.

    Busy when any signal is at or above its threshold (the same thresholds as the CloudWatch idle alarms). A signal
    that could not be read counts as idle: a crashed ComfyUI or a missing driver must not keep a GPU running for
    ever. Returns {"busy", "reasons", "idle_seconds", "poweroff", "publish", "state"}.
    """
    limits = config["thresholds"]
    reasons = []
    queue = sample.get("queue")
    gpus = sample.get("gpu")
    cpu = sample.get("cpu")
    if queue is not None and queue >= limits["queue_depth"]:
        reasons.append("queue %d >= %d" % (queue, limits["queue_depth"]))
    jobs = sample.get("jobs")
    if jobs is not None and jobs >= 1:
        reasons.append("%d job(s) in the SQS queue" % jobs)
    if gpus:
        peak = max(gpus)
        if peak >= limits["gpu_percent"]:
            reasons.append("gpu %.0f%% >= %s%%" % (peak, limits["gpu_percent"]))
    if cpu is not None and cpu >= limits["cpu_percent"]:
        reasons.append("cpu %.1f%% >= %s%%" % (cpu, limits["cpu_percent"]))

    busy = bool(reasons)
    previous = state.get("idle_since")
    idle_since = None if busy else (previous if isinstance(previous, (int, float)) else now)
    if idle_since is not None and idle_since > now:
        idle_since = now  # the clock went backwards: start again rather than never (or at once) stopping
    idle_seconds = 0 if idle_since is None else now - idle_since
    window = config["idle_minutes"] * 60
    due = not busy and idle_seconds >= window
    poweroff = due and not sample.get("inhibited", False)
    if not busy:
        if queue is None:
            reasons.append("ComfyUI /queue did not answer")
        if due and not poweroff:
            reasons.append("inhibited")
    return {
        "busy": busy,
        "reasons": reasons,
        "idle_seconds": idle_seconds,
        "poweroff": poweroff,
        # The Lambda reads a recent QueueDepth datapoint as "ComfyUI answers": publish only what /queue said.
        "publish": queue,
        "state": {"idle_since": idle_since},
    }


def emf_document(config, instance_id, depth, decision, sample, now):
    """One EMF log event: the agent extracts QueueDepth into Ziggie/ComfyUI with the InstanceId dimension."""
    metric = config["metric"]
    emf = config["emf"]
    doc = {
        "_aws": {
            "Timestamp": int(now * 1000),
            "LogGroupName": emf["log_group"],
            "LogStreamName": emf["log_stream"],
            "CloudWatchMetrics": [{
                "Namespace": metric["namespace"],
                "Dimensions": [[metric["dimension"]]],
                "Metrics": [{"Name": metric["name"], "Unit": "Count"}],
            }],
        },
        metric["dimension"]: instance_id,
        metric["name"]: depth,
        # Context for whoever reads the log group; not metrics (not listed under CloudWatchMetrics).
        "idleSeconds": int(decision["idle_seconds"]),
        "busy": decision["busy"],
    }
    if sample.get("gpu"):
        doc["gpuPercent"] = max(sample["gpu"])
    if sample.get("cpu") is not None:
        doc["cpuPercent"] = round(sample["cpu"], 1)
    return doc


# --------------------------------------------------------------------------------------------------------------
# The shell: read the signals, publish, act.
# --------------------------------------------------------------------------------------------------------------

def log(msg):
    print(msg, flush=True)


def load_config(path):
    config = json.loads(json.dumps(DEFAULTS))
    if path and os.path.exists(path):
        with open(path) as f:
            given = json.load(f)
        for key, value in given.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
    return config


def read_queue(config):
    try:
        with urllib.request.urlopen(config["comfyui_url"].rstrip("/") + "/queue", timeout=config["timeout_seconds"]) as r:
            return queue_depth(json.loads(r.read().decode("utf-8")))
    except (OSError, ValueError, urllib.error.URLError) as e:
        log("ComfyUI /queue: %s" % e)
        return None


def read_gpu(config):
    exe = shutil.which(config["nvidia_smi"])
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=config["timeout_seconds"] * 2)
    except (OSError, subprocess.TimeoutExpired) as e:
        log("nvidia-smi: %s" % e)
        return None
    if out.returncode != 0:
        log("nvidia-smi exited %d: %s" % (out.returncode, out.stderr.strip()[:200]))
        return None
    return parse_nvidia_smi(out.stdout)


def worker_jobs(status, now, max_age):
    """Jobs waiting + in flight per the worker's status file, or None when it is missing, stale or says unknown."""
    if not isinstance(status, dict) or not isinstance(status.get("at"), (int, float)) or now - status["at"] > max_age:
        return None
    visible, in_flight = status.get("visible"), status.get("inFlight")
    if not isinstance(visible, int) or not isinstance(in_flight, int):
        return 1 if status.get("job") else None
    return visible + in_flight + (1 if status.get("job") and in_flight == 0 else 0)


def read_jobs(config, now):
    path = config.get("worker_status_file")
    if not path:
        return None
    try:
        with open(path) as f:
            return worker_jobs(json.load(f), now, config["worker_status_max_age_seconds"])
    except (OSError, ValueError):
        return None


def read_cpu():
    try:
        with open("/proc/stat") as f:
            return cpu_counters(f.read())
    except (OSError, ValueError):
        return None


def load_state(path):
    try:
        with open(path) as f:
            state = json.load(f)
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def save_state(path, state):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)


def instance_id(config, state):
    """From the config (tests), the cached state, or IMDSv2 (no credentials involved)."""
    if config.get("instance_id"):
        return config["instance_id"]
    if state.get("instance_id"):
        return state["instance_id"]
    base = config["imds_url"].rstrip("/")
    try:
        req = urllib.request.Request(base + "/latest/api/token", method="PUT",
                                     headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"})
        with urllib.request.urlopen(req, timeout=2) as r:
            token = r.read().decode()
        req = urllib.request.Request(base + "/latest/meta-data/instance-id",
                                     headers={"X-aws-ec2-metadata-token": token})
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.read().decode().strip() or None
    except (OSError, urllib.error.URLError) as e:
        log("instance metadata: %s" % e)
        return None


def send_emf(config, doc):
    """One JSON line to the agent's EMF listener (tcp://host:port or udp://host:port)."""
    address = config["emf"]["address"]
    scheme, _, hostport = address.partition("://")
    host, _, port = hostport.rpartition(":")
    payload = (json.dumps(doc, separators=(",", ":")) + "\n").encode("utf-8")
    if scheme == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(payload, (host, int(port)))
        return
    with socket.create_connection((host, int(port)), timeout=config["timeout_seconds"]) as s:
        s.sendall(payload)


def publish(config, iid, depth, decision, sample, now):
    doc = emf_document(config, iid, depth, decision, sample, now)
    try:
        send_emf(config, doc)
        return "emf"
    except OSError as e:
        error = e
    aws = shutil.which("aws") if config.get("aws_cli_fallback") else None
    if not aws:
        log("publish failed: CloudWatch agent EMF listener %s: %s (no AWS CLI to fall back to)" % (config["emf"]["address"], error))
        return None
    metric = config["metric"]
    r = subprocess.run([aws, "cloudwatch", "put-metric-data", "--namespace", metric["namespace"],
                        "--metric-name", metric["name"], "--unit", "Count", "--value", str(depth),
                        "--dimensions", "%s=%s" % (metric["dimension"], iid)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        log("publish failed: EMF listener: %s; aws cloudwatch put-metric-data: %s" % (error, r.stderr.strip()[:300]))
        return None
    return "aws-cli"


def run_once(config, dry_run=False, now=None):
    now = time.time() if now is None else now
    state = load_state(config["state_file"])
    cpu_now = read_cpu()
    sample = {
        "queue": read_queue(config),
        "gpu": read_gpu(config),
        "cpu": cpu_percent(state.get("cpu_counters"), cpu_now),
        "inhibited": any(os.path.exists(p) for p in config["inhibit_files"]),
        "jobs": read_jobs(config, now),
    }
    decision = decide(sample, state, config, now)

    published = None
    iid = None
    if decision["publish"] is not None:
        iid = instance_id(config, state)
        if iid and not dry_run:
            published = publish(config, iid, decision["publish"], decision, sample, now)
        elif not iid:
            log("no instance id (not on EC2?): queue depth not published")

    gpu = "-" if not sample["gpu"] else "%.0f%%" % max(sample["gpu"])
    cpu = "-" if sample["cpu"] is None else "%.1f%%" % sample["cpu"]
    queue = "-" if sample["queue"] is None else str(sample["queue"])
    verdict = "busy" if decision["busy"] else "idle %ds/%ds" % (decision["idle_seconds"], config["idle_minutes"] * 60)
    action = "POWER OFF" if decision["poweroff"] else "stay up"
    jobs = "-" if sample["jobs"] is None else str(sample["jobs"])
    log("queue=%s jobs=%s gpu=%s cpu=%s -> %s%s -> %s%s%s" % (
        queue, jobs, gpu, cpu, verdict, (" (%s)" % "; ".join(decision["reasons"])) if decision["reasons"] else "", action,
        " [dry run]" if dry_run else "", (" [published via %s]" % published) if published else ""))

    new_state = dict(decision["state"])
    new_state["cpu_counters"] = cpu_now
    if iid:
        new_state["instance_id"] = iid
    if decision["poweroff"] and not dry_run:
        new_state["poweroff_requested_at"] = now
    if not dry_run:
        save_state(config["state_file"], new_state)
        if decision["poweroff"]:
            log("idle for %d minutes: powering off (%s)" % (config["idle_minutes"], " ".join(config["poweroff_command"])))
            subprocess.run(config["poweroff_command"], check=False)
    return decision


def main(argv=None):
    parser = argparse.ArgumentParser(description="ComfyUI idle watchdog (run once a minute by a systemd timer)")
    parser.add_argument("--config", default=os.environ.get("ZIGGIE_WATCHDOG_CONFIG", DEFAULT_CONFIG))
    parser.add_argument("--dry-run", action="store_true", help="print the decision; do not publish, save or power off")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except (OSError, ValueError) as e:
        log("cannot read %s: %s" % (args.config, e))
        return 2
    run_once(config, dry_run=args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
