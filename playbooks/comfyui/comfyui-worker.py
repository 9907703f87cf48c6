#!/usr/bin/env python3
"""ComfyUI job worker: takes generation jobs from the GPU stack's SQS queue and survives Spot interruptions.

A long-running service (comfyui-worker.service, next to the idle watchdog). Its loop:
  1. long-polls the queue for one job: {"jobId": "...", "workflow": {<ComfyUI API prompt>}, "callbackUrl": "..."};
  2. a job whose result.json already exists is a duplicate delivery: its message is deleted, nothing runs again;
  3. submits the workflow to ComfyUI (/prompt) and waits for /history/<prompt id>, extending the message's
     visibility while it runs; the job's state is checkpointed to S3 (state.json) at every phase change and every
     checkpoint_seconds, so a retry knows the prompt it started and every output already uploaded;
  4. uploads each output to s3://<bucket>/comfyui/generated/<job id>/<file>, skipping those the state lists;
  5. writes result.json last (its presence means "done"), optionally POSTs it to the job's callback URL, then
     deletes the message.

Stopping: on the Spot interruption notice (IMDSv2 spot/instance-action, checked before every receive, every wait
step and every upload) or on SIGTERM, it takes no new job and releases the job in flight (ChangeMessageVisibility
0) after checkpointing it, so the job runs again, from where it stopped, after the restart. A job that fails is
released after retry_delay_seconds; SQS moves it to the dead-letter queue after the queue's maxReceiveCount.

It also writes /run/ziggie-worker/status.json (the queue's depth and the job in flight) every loop: the idle
watchdog, which has no AWS credentials, reads it so a non-empty queue keeps the GPU up.

AWS access: boto3 with the instance profile's credentials (IMDSv2), like every AWS SDK on EC2. The decisions are
pure functions (job parsing, outputs from a /history answer, the result document), unit-tested in
test/unit/ami/test_worker.py without boto3.
"""
import argparse
import hashlib
import json
import mimetypes
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_CONFIG = "/etc/ziggie/comfyui-worker.json"

DEFAULTS = {
    "queue_url": None,
    "region": None,
    "bucket": None,
    "results_prefix": "comfyui/generated/",
    "comfyui_url": "http://127.0.0.1:8188",
    "imds_url": "http://169.254.169.254",
    # tests: a local SQS/S3-compatible server; unset on AWS
    "endpoint_url": None,
    "wait_seconds": 20,
    "visibility_seconds": 120,
    "poll_seconds": 2,
    "checkpoint_seconds": 30,
    "job_timeout_seconds": 3600,
    "retry_delay_seconds": 60,
    "callback_timeout_seconds": 10,
    "status_file": "/run/ziggie-worker/status.json",
    "timeout_seconds": 5,
}

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
RESULT = "result.json"
STATE = "state.json"


# --------------------------------------------------------------------------------------------------------------
# The decisions: pure functions, no I/O.
# --------------------------------------------------------------------------------------------------------------

class BadJob(ValueError):
    """A message that can never run (malformed); it is left to reach the dead-letter queue."""


def parse_job(body):
    """The job in a message body, or BadJob naming what is wrong."""
    try:
        job = json.loads(body)
    except ValueError:
        raise BadJob("the message body is not JSON")
    if not isinstance(job, dict):
        raise BadJob("the message body is not a JSON object")
    job_id = job.get("jobId")
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise BadJob("jobId must be 1-64 letters, digits, - or _ (got %r)" % (job_id,))
    workflow = job.get("workflow")
    if not isinstance(workflow, dict) or not workflow:
        raise BadJob("job %s: workflow must be a non-empty JSON object (ComfyUI's API format)" % job_id)
    callback = job.get("callbackUrl")
    if callback is not None:
        if not isinstance(callback, str) or urllib.parse.urlsplit(callback).scheme not in ("http", "https"):
            raise BadJob("job %s: callbackUrl must be an http(s) URL" % job_id)
    return {"jobId": job_id, "workflow": workflow, "callbackUrl": callback}


def job_prefix(config, job_id):
    return "%s%s/" % (config["results_prefix"], job_id)


def new_state(job_id):
    return {"jobId": job_id, "phase": "queued", "promptId": None, "uploaded": {}, "attempts": 0,
            "releases": [], "lastError": None}


def history_outcome(history, prompt_id):
    """What ComfyUI's /history/<id> says: ("pending", None), ("success", [outputs]) or ("error", message)."""
    entry = history.get(prompt_id) if isinstance(history, dict) else None
    if not isinstance(entry, dict):
        return ("pending", None)
    status = entry.get("status") or {}
    if status.get("status_str") == "error":
        messages = [m for m in status.get("messages", []) if isinstance(m, list) and m and m[0] == "execution_error"]
        detail = messages[0][1].get("exception_message", "execution error") if messages and isinstance(messages[0][1], dict) else "execution error"
        return ("error", "ComfyUI: %s" % detail)
    if not status.get("completed", False) and status.get("status_str") != "success":
        return ("pending", None)
    return ("success", output_files(entry.get("outputs") or {}))


SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def output_files(outputs):
    """Every saved output ({filename, subfolder, type: output}) of every node, in node order.

    Each is named by where it comes from, <node id>-<index><extension>, not by ComfyUI's file name: SaveImage
    numbers its files with a counter, so a prompt run again after an interruption saves the same image under a
    new name. The stable name is what lets a retry skip what is already uploaded instead of uploading it twice.
    """
    files = []
    for node_id in sorted(outputs, key=lambda k: (len(k), k)):
        node = outputs[node_id]
        if not isinstance(node, dict):
            continue
        index = 0
        for kind in sorted(node):
            items = node[kind]
            if not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict) or item.get("type") != "output" or not isinstance(item.get("filename"), str):
                    continue
                ext = os.path.splitext(item["filename"])[1].lower()
                name = "%s-%d%s" % (SAFE.sub("_", str(node_id)), index, SAFE.sub("", ext))
                index += 1
                files.append({"name": name, "filename": item["filename"], "subfolder": item.get("subfolder") or "",
                              "type": "output"})
    return files


def result_document(config, state, files, started_at, finished_at):
    prefix = job_prefix(config, state["jobId"])
    outputs = []
    for f in files:
        up = state["uploaded"][f["name"]]
        outputs.append({"name": f["name"], "key": up["key"], "url": "s3://%s/%s" % (config["bucket"], up["key"]),
                        "bytes": up["bytes"], "sha256": up["sha256"], "contentType": up["contentType"]})
    return {"jobId": state["jobId"], "status": "succeeded", "promptId": state["promptId"], "outputs": outputs,
            "attempts": state["attempts"], "startedAt": started_at, "finishedAt": finished_at,
            "resultUrl": "s3://%s/%s%s" % (config["bucket"], prefix, RESULT)}


def validate_config(config):
    missing = [k for k in ("queue_url", "region", "bucket") if not config.get(k)]
    if missing:
        raise ValueError("missing %s" % ", ".join(missing))
    if not config["results_prefix"].endswith("/"):
        raise ValueError("results_prefix must end with /")
    if config["visibility_seconds"] < 3 * config["poll_seconds"]:
        raise ValueError("visibility_seconds must be at least 3 x poll_seconds")


# --------------------------------------------------------------------------------------------------------------
# The shell: SQS, S3, ComfyUI, IMDS.
# --------------------------------------------------------------------------------------------------------------

def log(msg):
    print(msg, flush=True)


def load_config(path):
    config = dict(DEFAULTS)
    with open(path) as f:
        given = json.load(f)
    if not isinstance(given, dict):
        raise ValueError("the config must be a JSON object")
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError("unknown keys %s" % ", ".join(unknown))
    config.update(given)
    validate_config(config)
    return config


class Released(Exception):
    """The job in flight was handed back to the queue (interruption or shutdown)."""


class Stop:
    """Why the worker must take no new job: SIGTERM, or the Spot interruption notice."""

    def __init__(self, config):
        self.config = config
        self.signalled = None
        self._token = None
        self._token_at = 0
        self._imds_warned = False

    def on_signal(self, signum, _frame):
        self.signalled = signal.Signals(signum).name

    def _imds(self, path):
        base = self.config["imds_url"].rstrip("/")
        if not self._token or time.time() - self._token_at > 300:
            req = urllib.request.Request(base + "/latest/api/token", method="PUT",
                                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "600"})
            with urllib.request.urlopen(req, timeout=2) as r:
                self._token = r.read().decode()
                self._token_at = time.time()
        req = urllib.request.Request(base + path, headers={"X-aws-ec2-metadata-token": self._token})
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.read().decode()

    def spot_notice(self):
        """The instance-action document when a Spot interruption is scheduled (404 otherwise)."""
        try:
            return json.loads(self._imds("/latest/meta-data/spot/instance-action"))
        except urllib.error.HTTPError as e:
            if e.code == 401:
                self._token = None
            return None
        except (OSError, ValueError) as e:
            if not self._imds_warned:
                log("instance metadata unreachable (%s): Spot notices cannot be seen" % e)
                self._imds_warned = True
            return None

    def reason(self):
        if self.signalled:
            return self.signalled
        notice = self.spot_notice()
        if notice:
            return "spot interruption notice (%s at %s)" % (notice.get("action", "?"), notice.get("time", "?"))
        return None


class Worker:
    def __init__(self, config, sqs, s3, stop, clock=time.time, sleep=time.sleep):
        self.config = config
        self.sqs = sqs
        self.s3 = s3
        self.stop = stop
        self.clock = clock
        self.sleep = sleep
        self.job = None

    # --- S3 -------------------------------------------------------------------------------------------------
    def _exists(self, key):
        from botocore.exceptions import ClientError
        try:
            self.s3.head_object(Bucket=self.config["bucket"], Key=key)
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _get_json(self, key):
        from botocore.exceptions import ClientError
        try:
            body = self.s3.get_object(Bucket=self.config["bucket"], Key=key)["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return json.loads(body)

    def _put_json(self, key, doc):
        self.s3.put_object(Bucket=self.config["bucket"], Key=key, Body=json.dumps(doc, indent=2).encode(),
                           ContentType="application/json")

    def checkpoint(self, state, phase=None):
        if phase:
            state["phase"] = phase
        state["updatedAt"] = self.clock()
        self._put_json(job_prefix(self.config, state["jobId"]) + STATE, state)
        self._last_checkpoint = self.clock()

    # --- ComfyUI --------------------------------------------------------------------------------------------
    def _comfy(self, path, body=None):
        url = self.config["comfyui_url"].rstrip("/") + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(req, timeout=self.config["timeout_seconds"] * 2) as r:
            raw = r.read()
        return raw if path.startswith("/view") else json.loads(raw)

    def _history(self, prompt_id):
        try:
            return self._comfy("/history/" + urllib.parse.quote(prompt_id))
        except (OSError, ValueError) as e:
            log("ComfyUI /history: %s" % e)
            return {}

    # --- the queue ------------------------------------------------------------------------------------------
    def write_status(self, job_id):
        path = self.config["status_file"]
        try:
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=self.config["queue_url"],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            doc = {"at": self.clock(), "job": job_id, "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
                   "inFlight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))}
        except Exception as e:  # noqa: BLE001 -- unknown is written as unknown, never as zero
            log("queue depth unknown: %s" % e)
            doc = {"at": self.clock(), "job": job_id, "visible": None, "inFlight": None}
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = "%s.tmp.%d" % (path, os.getpid())
            with open(tmp, "w") as f:
                json.dump(doc, f)
            os.replace(tmp, path)
        except OSError as e:
            log("status file %s: %s" % (path, e))

    def _visibility(self, handle, seconds):
        self.sqs.change_message_visibility(QueueUrl=self.config["queue_url"], ReceiptHandle=handle,
                                           VisibilityTimeout=seconds)

    def release(self, handle, state, why):
        """Hand the message back at once, with the state saved: the next receive resumes from it."""
        if state is not None:
            state["releases"].append({"at": self.clock(), "reason": why, "phase": state["phase"]})
            self.checkpoint(state)
        self._visibility(handle, 0)
        log("released %s (%s)" % (state["jobId"] if state else "a message", why))

    def run(self):
        log("worker: queue %s, results s3://%s/%s" % (self.config["queue_url"], self.config["bucket"], self.config["results_prefix"]))
        paused = None
        while True:
            if self.stop.signalled:
                log("worker: %s: stopping" % self.stop.signalled)
                return 0
            why = self.stop.reason()
            if why:
                if why != paused:
                    log("worker: %s: taking no jobs" % why)
                    paused = why
                self.write_status(None)
                self.sleep(self.config["poll_seconds"])
                continue
            if paused:
                log("worker: the interruption notice is gone: taking jobs again")
                paused = None
            self.write_status(None)
            self.poll_once()

    def poll_once(self):
        out = self.sqs.receive_message(QueueUrl=self.config["queue_url"], MaxNumberOfMessages=1,
                                       WaitTimeSeconds=self.config["wait_seconds"],
                                       VisibilityTimeout=self.config["visibility_seconds"],
                                       AttributeNames=["ApproximateReceiveCount"])
        for message in out.get("Messages", []):
            self.handle(message)

    def handle(self, message):
        handle = message["ReceiptHandle"]
        receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
        why = self.stop.reason()
        if why:
            self.release(handle, None, why)
            return "released"
        try:
            job = parse_job(message.get("Body", ""))
        except BadJob as e:
            # Never runnable: back at once, so it reaches the dead-letter queue after maxReceiveCount receives.
            log("bad job (receive %s): %s" % (receives, e))
            self._visibility(handle, 0)
            return "bad"
        prefix = job_prefix(self.config, job["jobId"])
        if self._exists(prefix + RESULT):
            log("job %s: result.json exists: a duplicate delivery, deleted" % job["jobId"])
            self.sqs.delete_message(QueueUrl=self.config["queue_url"], ReceiptHandle=handle)
            return "duplicate"
        state = self._get_json(prefix + STATE) or new_state(job["jobId"])
        state["attempts"] += 1
        self.write_status(job["jobId"])
        try:
            return self.execute(job, state, handle)
        except Released:
            return "released"
        except JobFailed as e:
            state["lastError"] = str(e)
            self.checkpoint(state, "failed")
            self._visibility(handle, self.config["retry_delay_seconds"])
            log("job %s failed (receive %s): %s; back in the queue in %d s" % (job["jobId"], receives, e, self.config["retry_delay_seconds"]))
            return "failed"

    def execute(self, job, state, handle):
        started = self.clock()
        extended = started
        self._last_checkpoint = 0

        def step():
            """Between any two actions: give the job back if we must stop; keep the message invisible."""
            nonlocal extended
            why = self.stop.reason()
            if why:
                self.release(handle, state, why)
                raise Released(why)
            if self.clock() - extended >= self.config["visibility_seconds"] / 3:
                self._visibility(handle, self.config["visibility_seconds"])
                extended = self.clock()
            if self.clock() - self._last_checkpoint >= self.config["checkpoint_seconds"]:
                self.checkpoint(state)

        step()
        files = None
        if state.get("promptId"):
            outcome, files = history_outcome(self._history(state["promptId"]), state["promptId"])
            if outcome == "pending" and state["phase"] == "running" and self._queued(state["promptId"]):
                log("job %s: prompt %s is still in ComfyUI: waiting for it" % (job["jobId"], state["promptId"]))
            elif outcome != "success":
                state["promptId"] = None
        if files is None and not state.get("promptId"):
            try:
                answer = self._comfy("/prompt", {"prompt": job["workflow"], "client_id": "ziggie-worker-" + job["jobId"]})
            except urllib.error.HTTPError as e:
                raise JobFailed("ComfyUI refused the workflow (%d): %s" % (e.code, e.read()[:300].decode("utf-8", "replace")))
            except (OSError, ValueError) as e:
                raise JobFailed("ComfyUI /prompt: %s" % e)
            state["promptId"] = answer.get("prompt_id")
            if not state["promptId"]:
                raise JobFailed("ComfyUI /prompt answered without a prompt_id: %s" % json.dumps(answer)[:300])
            log("job %s: prompt %s submitted (attempt %d)" % (job["jobId"], state["promptId"], state["attempts"]))
        self.checkpoint(state, "running")

        while files is None:
            step()
            outcome, detail = history_outcome(self._history(state["promptId"]), state["promptId"])
            if outcome == "error":
                state["promptId"] = None
                raise JobFailed(detail)
            if outcome == "success":
                files = detail
                break
            if self.clock() - started > self.config["job_timeout_seconds"]:
                raise JobFailed("ComfyUI did not finish within %d s" % self.config["job_timeout_seconds"])
            self.sleep(self.config["poll_seconds"])

        self.checkpoint(state, "uploading")
        prefix = job_prefix(self.config, job["jobId"])
        for f in files:
            if f["name"] in state["uploaded"]:
                continue
            step()
            query = urllib.parse.urlencode({"filename": f["filename"], "subfolder": f["subfolder"], "type": "output"})
            try:
                data = self._comfy("/view?" + query)
            except (OSError, ValueError) as e:
                raise JobFailed("ComfyUI /view %s: %s" % (f["name"], e))
            key = prefix + f["name"]
            content_type = mimetypes.guess_type(f["filename"])[0] or "application/octet-stream"
            self.s3.put_object(Bucket=self.config["bucket"], Key=key, Body=data, ContentType=content_type)
            state["uploaded"][f["name"]] = {"key": key, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                            "contentType": content_type}
            self.checkpoint(state)
            log("job %s: uploaded %s (%d bytes)" % (job["jobId"], key, len(data)))

        step()
        result = result_document(self.config, state, files, started, self.clock())
        self._put_json(prefix + RESULT, result)
        state["phase"] = "done"
        if job.get("callbackUrl"):
            state["callback"] = self.callback(job["callbackUrl"], result)
        self.checkpoint(state)
        self.sqs.delete_message(QueueUrl=self.config["queue_url"], ReceiptHandle=handle)
        log("job %s: done, %d output(s) under s3://%s/%s" % (job["jobId"], len(files), self.config["bucket"], prefix))
        return "done"

    def _queued(self, prompt_id):
        try:
            q = self._comfy("/queue")
        except (OSError, ValueError):
            return False
        items = (q.get("queue_running") or []) + (q.get("queue_pending") or [])
        return any(isinstance(i, list) and len(i) > 1 and i[1] == prompt_id for i in items)

    def callback(self, url, result):
        """One POST of result.json; its failure is recorded, never fatal (the result is in S3 either way)."""
        req = urllib.request.Request(url, data=json.dumps(result).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.config["callback_timeout_seconds"]) as r:
                return {"status": r.status}
        except urllib.error.HTTPError as e:
            log("callback %s answered %d" % (url, e.code))
            return {"status": e.code}
        except OSError as e:
            log("callback %s: %s" % (url, e))
            return {"error": str(e)}


class JobFailed(Exception):
    """ComfyUI could not run the job this time; SQS retries it, then dead-letters it."""


def clients(config):
    import boto3
    from botocore.config import Config
    common = {"region_name": config["region"], "endpoint_url": config["endpoint_url"] or None}
    sqs_cfg = Config(connect_timeout=config["timeout_seconds"], read_timeout=config["wait_seconds"] + 10,
                     retries={"max_attempts": 5, "mode": "standard"})
    s3_cfg = Config(connect_timeout=config["timeout_seconds"], read_timeout=60, retries={"max_attempts": 5, "mode": "standard"},
                    s3={"addressing_style": "path"} if config["endpoint_url"] else {})
    return boto3.client("sqs", config=sqs_cfg, **common), boto3.client("s3", config=s3_cfg, **common)


def main(argv=None):
    parser = argparse.ArgumentParser(description="ComfyUI job worker (SQS -> ComfyUI -> S3), a systemd service")
    parser.add_argument("--config", default=os.environ.get("ZIGGIE_WORKER_CONFIG", DEFAULT_CONFIG))
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except (OSError, ValueError) as e:
        log("comfyui-worker: %s: %s" % (args.config, e))
        return 2
    stop = Stop(config)
    signal.signal(signal.SIGTERM, stop.on_signal)
    signal.signal(signal.SIGINT, stop.on_signal)
    sqs, s3 = clients(config)
    return Worker(config, sqs, s3, stop).run()


if __name__ == "__main__":
    sys.exit(main())
