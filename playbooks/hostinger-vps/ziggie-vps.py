#!/usr/bin/python3
"""ziggie-vps: the VPS side of `npm run provision:vps`. Installed as /usr/local/sbin/ziggie-vps (root only).

  ziggie-vps fetch-secrets [--service S]     Secrets Manager -> /run/ziggie/secrets/<service>/<ENV> (tmpfs files)
  ziggie-vps backup [--dest URL]             pg_dumpall + backupPaths archives -> <dest>/<prefix>YYYY/MM/DD/...
  ziggie-vps list-backups [--date Y/M/D]     what a restore would find
  ziggie-vps restore --date Y/M/D --yes [--service S] [--time HHMMSS] [--from URL] [--archive FILE [--sha256 H]]

A restore takes only runs a backup wrote a manifest for (name, time, sha256), verifies every part against it and
checks every archive member (files and directories only, nothing outside its path) before replacing anything.

Why Python + botocore: Ubuntu ships python3 on every server image and python3-botocore in its archive (apt, signed,
security updates), and botocore signs SigV4, reads the shared credentials file, retries and knows every region.
The AWS CLI is the fallback when botocore is missing: Ubuntu 24.04 no longer packages `awscli`, and its v2
installer is a download outside apt. Node is not needed on the VPS.

Never prints, logs or writes a secret value anywhere but the tmpfs secret files (containers get them as files,
never as environment that Docker would persist in its container state).
Settings: /etc/ziggie/vps.json (written by the playbook, no secrets). Credentials: /etc/ziggie/aws-credentials
(root, 0600, shared-credentials format). Endpoint overrides (tests, VPC endpoints): "endpoints" in vps.json or
AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_S3.
"""
import argparse
import copy
import datetime
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

CONFIG = os.environ.get("ZIGGIE_VPS_CONFIG", "/etc/ziggie/vps.json")
CREDENTIALS = "/etc/ziggie/aws-credentials"


class Fail(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def load_config():
    try:
        with open(CONFIG) as f:
            return json.load(f)
    except OSError as e:
        raise Fail("cannot read %s: %s (run npm run provision:vps)" % (CONFIG, e.strerror))


# --- AWS access: botocore, else the AWS CLI ------------------------------------------------------------------


class Aws:
    credentials_override = None

    def __init__(self, cfg):
        self.region = cfg["region"]
        endpoints = cfg.get("endpoints") or {}
        self.sm_endpoint = os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or endpoints.get("secretsmanager")
        self.s3_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or endpoints.get("s3")
        creds = Aws.credentials_override or cfg.get("credentialsFile", CREDENTIALS)
        # Only the root-only file: never root's ~/.aws, never stray environment keys.
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(k, None)
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = creds
        os.environ["AWS_CONFIG_FILE"] = "/dev/null"
        if not os.path.exists(creds):
            raise Fail("%s is missing: the playbook writes it from the inventory (vps_aws_access_key_id)" % creds)
        try:
            import botocore.session  # noqa: F401
            from botocore.config import Config  # noqa: F401

            self.impl = "botocore"
        except ImportError:
            if not shutil.which("aws"):
                raise Fail("neither python3-botocore nor the aws CLI is installed (apt-get install python3-botocore)")
            self.impl = "awscli"
        self._clients = {}

    def _client(self, service):
        if service not in self._clients:
            import botocore.session
            from botocore.config import Config

            session = botocore.session.get_session()
            extra = {"s3": {"addressing_style": "path"}} if service == "s3" and self.s3_endpoint else {}
            cfg = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60, **extra)
            endpoint = self.sm_endpoint if service == "secretsmanager" else self.s3_endpoint
            self._clients[service] = session.create_client(service, region_name=self.region, endpoint_url=endpoint or None, config=cfg)
        return self._clients[service]

    def _cli(self, service, args, endpoint):
        cmd = ["aws", service] + args + ["--region", self.region, "--output", "json"]
        if endpoint:
            cmd += ["--endpoint-url", endpoint]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            # the CLI's error names the API error, never a value
            raise Fail(r.stderr.decode("utf-8", "replace").strip().splitlines()[-1] if r.stderr else "aws CLI failed")
        return json.loads(r.stdout.decode() or "{}")

    def get_secret(self, name):
        if self.impl == "botocore":
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                out = self._client("secretsmanager").get_secret_value(SecretId=name)
            except ClientError as e:
                raise Fail("%s: %s" % (name, e.response.get("Error", {}).get("Code", "error")))
            except BotoCoreError as e:
                raise Fail("%s: %s" % (name, type(e).__name__))
        else:
            out = self._cli("secretsmanager", ["get-secret-value", "--secret-id", name], self.sm_endpoint)
        if "SecretString" not in out or out["SecretString"] is None:
            raise Fail("%s holds a binary value: env files take text secrets only" % name)
        return out["SecretString"]

    def put_file(self, bucket, key, path):
        if self.impl == "botocore":
            with open(path, "rb") as body:
                self._client("s3").put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")
        else:
            self._cli("s3api", ["put-object", "--bucket", bucket, "--key", key, "--body", path, "--server-side-encryption", "AES256"], self.s3_endpoint)

    def list_keys(self, bucket, prefix):
        keys = []
        if self.impl == "botocore":
            token = None
            while True:
                kw = {"Bucket": bucket, "Prefix": prefix}
                if token:
                    kw["ContinuationToken"] = token
                out = self._client("s3").list_objects_v2(**kw)
                keys += [o["Key"] for o in out.get("Contents", [])]
                if not out.get("IsTruncated"):
                    return keys
                token = out.get("NextContinuationToken")
        out = self._cli("s3api", ["list-objects-v2", "--bucket", bucket, "--prefix", prefix], self.s3_endpoint)
        return [o["Key"] for o in out.get("Contents", []) or []]

    def get_file(self, bucket, key, path):
        if self.impl == "botocore":
            out = self._client("s3").get_object(Bucket=bucket, Key=key)
            with open(path, "wb") as f:
                shutil.copyfileobj(out["Body"], f)
        else:
            self._cli("s3api", ["get-object", "--bucket", bucket, "--key", key, path], self.s3_endpoint)


# --- secrets ----------------------------------------------------------------------------------------------------


def write_private(path, data, mode=0o600):
    """Atomic write with `mode` from creation (the temp file is 0600 until it is complete)."""
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
            os.fchmod(f.fileno(), mode)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def write_service_secrets(secrets_dir, service, values, mode=0o444):
    """<secretsDir>/<service>/<ENV_NAME>, one file per variable holding exactly the value (tmpfs). The directories
    are root-only (0700); the files are 0444 because compose bind-mounts each at /run/secrets/<ENV_NAME> in the
    container, where the service's own user (not always root) must read it. A service that runs as root may ask
    for less ("fileMode": "0400": the control center's token store must not be readable by others).
    Files no longer mapped are removed."""
    d = os.path.join(secrets_dir, service)
    os.makedirs(d, mode=0o700, exist_ok=True)
    os.chmod(d, 0o700)
    for env, value in sorted(values.items()):
        if not ENV_NAME.match(env):
            raise Fail("%s: %r is not an environment variable name" % (service, env))
        write_private(os.path.join(d, env), value.encode("utf-8"), mode)
    for f in os.listdir(d):
        if f not in values:
            os.unlink(os.path.join(d, f))


def cmd_fetch_secrets(args):
    import time

    deadline = time.monotonic() + (args.retry_for or 0)
    delay = 2
    while True:
        try:
            return fetch_secrets(args)
        except Fail as e:
            if time.monotonic() + delay > deadline:
                raise
            print("ziggie-vps: %s; retrying in %d s" % (e, delay), file=sys.stderr, flush=True)
            time.sleep(delay)
            delay = min(delay * 2, 30)


def fetch_secrets(args):
    cfg = load_config()
    secrets_dir = cfg.get("secretsDir", "/run/ziggie/secrets")
    if not args.allow_any_dir and not secrets_dir.startswith("/run/"):
        raise Fail("secretsDir must be on tmpfs under /run, not %s" % secrets_dir)
    services = [s for s in cfg["services"] if s.get("secrets") and (not args.service or s["name"] == args.service)]
    if args.service and not services:
        raise Fail("no service %s with secrets in %s" % (args.service, CONFIG))
    os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
    os.chmod(secrets_dir, 0o700)
    aws = Aws(cfg) if services else None
    cache, failed = {}, []
    for svc in services:
        values = {}
        for env, name in sorted(svc["secrets"].items()):
            if name not in cache:
                try:
                    cache[name] = aws.get_secret(name)
                except Fail as e:
                    failed.append(str(e))
                    cache[name] = None
            if cache[name] is not None:
                values[env] = cache[name]
        if len(values) != len(svc["secrets"]):
            continue  # keep the previous files: a half-filled set would start the service without a secret
        write_service_secrets(secrets_dir, svc["name"], values, int(svc.get("fileMode", "0444"), 8))
        log("%s: %d secret(s) -> %s/%s/" % (svc["name"], len(values), secrets_dir, svc["name"]))
    if not args.service:
        wanted = {s["name"] for s in services}
        for f in os.listdir(secrets_dir):
            p = os.path.join(secrets_dir, f)
            if f.startswith("."):
                continue
            if f.endswith(".env") and os.path.isfile(p):
                os.unlink(p)  # the env-file layout before secrets became files
                log("removed %s (secrets are files now)" % f)
            elif os.path.isdir(p) and f not in wanted:
                shutil.rmtree(p)
                log("removed %s/ (no longer configured)" % f)
        if not failed:
            write_private(os.path.join(secrets_dir, ".mapping"), cfg.get("mappingDigest", "") + "\n")
    if failed:
        raise Fail("could not fetch: " + "; ".join(failed))
    return 0


# --- backups -----------------------------------------------------------------------------------------------------


def docker(args, **kw):
    return subprocess.run(["docker"] + args, **kw)


def parse_dest(url):
    if url.startswith("s3://"):
        rest = url[5:]
        bucket, _, prefix = rest.partition("/")
        return ("s3", bucket, prefix.strip("/") + "/" if prefix.strip("/") else "")
    if url.startswith("file://"):
        return ("file", url[7:].rstrip("/") or "/", "")
    raise Fail("backup destination must be s3://BUCKET[/prefix] or file:///dir, not %s" % url)


class Store:
    def __init__(self, cfg, url):
        self.kind, self.where, self.base = parse_dest(url)
        self.cfg = cfg
        self._aws = None

    def aws(self):
        if self._aws is None:
            self._aws = Aws(self.cfg)
        return self._aws

    def put(self, key, path):
        if self.kind == "s3":
            self.aws().put_file(self.where, self.base + key, path)
        else:
            dest = os.path.join(self.where, key)
            os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
            shutil.copyfile(path, dest + ".part")
            os.chmod(dest + ".part", 0o600)
            os.rename(dest + ".part", dest)

    def list(self, prefix):
        if self.kind == "s3":
            return [k[len(self.base):] for k in self.aws().list_keys(self.where, self.base + prefix)]
        root = os.path.join(self.where, prefix)
        out = []
        for d, _, files in os.walk(root):
            for f in files:
                if not f.endswith(".part"):
                    out.append(os.path.relpath(os.path.join(d, f), self.where))
        return sorted(out)

    def get(self, key, path):
        if self.kind == "s3":
            self.aws().get_file(self.where, self.base + key, path)
        else:
            shutil.copyfile(os.path.join(self.where, key), path)


def container_running(name):
    r = docker(["inspect", "-f", "{{.State.Running}}", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.returncode == 0 and r.stdout.strip() == b"true"


def dump_postgres(pg, out_path):
    """pg_dumpall --clean inside the Postgres container, gzipped on the way out."""
    with open(out_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        p = subprocess.Popen(["docker", "exec", pg["container"], "pg_dumpall", "--clean", "--if-exists", "-U", pg["user"]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        shutil.copyfileobj(p.stdout, gz)
        err = p.stderr.read()
        if p.wait() != 0:
            raise Fail("pg_dumpall in %s failed: %s" % (pg["container"], err.decode("utf-8", "replace").strip()[-300:]))


def archive_paths(container, paths, out_path):
    """One .tar.gz holding every backup path of a container, members named by their absolute path (without
    the leading /). `docker cp CONTAINER:PATH -` streams a tar: no tar binary is needed in the image.
    Only regular files and directories are archived; returns the links and special files it left out."""
    skipped = []
    with open(out_path, "wb") as raw, tarfile.open(fileobj=raw, mode="w|gz") as out:
        for path in paths:
            parent = os.path.dirname(path.rstrip("/")).lstrip("/")
            p = subprocess.Popen(["docker", "cp", "%s:%s" % (container, path), "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with tarfile.open(fileobj=p.stdout, mode="r|") as src:
                for m in src:
                    if not (m.isreg() or m.isdir()):
                        # restore takes regular files and directories only (see check_archive): say what is left out
                        skipped.append("/" + (parent + "/" if parent else "") + m.name)
                        continue
                    m.name = parent + "/" + m.name if parent else m.name
                    out.addfile(m, src.extractfile(m) if m.isreg() else None)
            err = p.stderr.read()
            if p.wait() != 0:
                raise Fail("docker cp %s:%s failed: %s" % (container, path, err.decode("utf-8", "replace").strip()[-300:]))
    return skipped


# --- manifests: what a backup run wrote, so a restore takes exactly that ------------------------------------------

MANIFEST = ".manifest.json"
STAMP = re.compile(r"^\d{6}$")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def part_key(prefix, day, svc, stamp, kind):
    return "%s%s/%s-%s%s" % (prefix, day, svc, stamp, ".sql.gz" if kind == "sql" else ".tar.gz")


def manifest_key(prefix, day, svc, stamp):
    return "%s%s/%s-%s%s" % (prefix, day, svc, stamp, MANIFEST)


def upload_part(store, prefix, day, stamp, svc, kind, path, now):
    """The part, then its manifest (name, time, sha256, size): a manifest exists only for a finished upload."""
    key = part_key(prefix, day, svc, stamp, kind)
    store.put(key, path)
    manifest = {
        "version": 1, "service": svc, "kind": kind, "key": key,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "sha256": sha256_file(path), "size": os.path.getsize(path),
    }
    mpath = path + MANIFEST
    with open(mpath, "w") as f:
        json.dump(manifest, f, sort_keys=True)
    store.put(manifest_key(prefix, day, svc, stamp), mpath)
    return key


def read_manifest(store, mkey, work, prefix, day, svc, stamp, kind):
    """A manifest, checked against the name it was found under: a manifest naming another object, service, day
    or time is refused, not followed."""
    local = os.path.join(work, "manifest-%s-%s.json" % (svc, stamp))
    store.get(mkey, local)
    if os.path.getsize(local) > 65536:
        raise Fail("%s is not a manifest (too large)" % mkey)
    try:
        with open(local) as f:
            m = json.load(f)
    except ValueError:
        raise Fail("%s is not a manifest (not JSON)" % mkey)
    want = {"service": svc, "kind": kind, "key": part_key(prefix, day, svc, stamp, kind)}
    if not isinstance(m, dict) or m.get("version") != 1 or any(m.get(k) != v for k, v in want.items()):
        raise Fail("%s does not describe %s: refusing it (--time HHMMSS picks another run)" % (mkey, want["key"]))
    if m.get("time", "")[:19] != "%sT%s:%s:%s" % (day.replace("/", "-"), stamp[0:2], stamp[2:4], stamp[4:6]):
        raise Fail("%s: its time %r is not the time in its name: refusing it" % (mkey, m.get("time")))
    if not re.match(r"^[0-9a-f]{64}$", str(m.get("sha256"))) or not isinstance(m.get("size"), int):
        raise Fail("%s has no valid sha256/size: refusing it" % mkey)
    return m


def verify_part(local, manifest):
    size, digest = os.path.getsize(local), sha256_file(local)
    if size != manifest["size"] or digest != manifest["sha256"]:
        raise Fail("%s does not match its manifest (sha256 %s…, manifest %s…): it changed after the backup wrote it; "
                   "nothing was restored" % (manifest["key"], digest[:12], manifest["sha256"][:12]))


def cmd_backup(args):
    cfg = load_config()
    b = cfg["backup"]
    store = Store(cfg, args.dest or b["destination"])
    now = datetime.datetime.now(datetime.timezone.utc)
    day, stamp = now.strftime("%Y/%m/%d"), now.strftime("%H%M%S")
    work = tempfile.mkdtemp(prefix="ziggie-backup-", dir=b.get("workDir", "/var/tmp"))
    os.chmod(work, 0o700)
    failed = []
    try:
        pg = b.get("postgres")
        if pg:
            try:
                path = os.path.join(work, "pg.sql.gz")
                dump_postgres(pg, path)
                key = upload_part(store, pg["prefix"], day, stamp, pg["service"], "sql", path, now)
                log("uploaded %s (%d bytes)" % (key, os.path.getsize(path)))
            except Exception as e:  # one part failing must not stop the others
                failed.append("%s: %s" % (pg["service"], e))
        for a in b.get("archives", []):
            try:
                path = os.path.join(work, a["service"] + ".tar.gz")
                skipped = archive_paths(a["container"], a["paths"], path)
                if skipped:
                    log("%s: left out %d link(s)/special file(s) (restore takes files and directories only): %s"
                        % (a["service"], len(skipped), ", ".join(skipped[:5]) + (" …" if len(skipped) > 5 else "")))
                key = upload_part(store, a["prefix"], day, stamp, a["service"], "tar", path, now)
                log("uploaded %s (%d bytes)" % (key, os.path.getsize(path)))
            except Exception as e:
                failed.append("%s: %s" % (a["service"], e))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        raise Fail("backup incomplete: " + "; ".join(failed))
    return 0


def backup_sets(cfg):
    """service -> (prefix, kind) for everything a backup writes."""
    b = cfg["backup"]
    sets = {}
    if b.get("postgres"):
        sets[b["postgres"]["service"]] = (b["postgres"]["prefix"], "sql")
    for a in b.get("archives", []):
        sets[a["service"]] = (a["prefix"], "tar")
    return sets


def find_backups(cfg, store, date, work, service=None, time=None):
    """Per service, the newest run on `date` (or the one at `time`) that has a valid manifest, as
    {service: (manifest, kind)}. Objects without a manifest are never candidates: a key planted to sort last
    does not win. Returns (found, ignored), ignored = data objects no manifest names."""
    found, ignored = {}, []
    if time and not STAMP.match(time):
        raise Fail("--time is HHMMSS, not %s" % time)
    for svc, (prefix, kind) in sorted(backup_sets(cfg).items()):
        if service and svc != service:
            continue
        keys = store.list("%s%s/" % (prefix, date))
        pat = re.compile(r"^%s-(\d{6})%s$" % (re.escape(svc), re.escape(MANIFEST)))
        stamps = sorted((m.group(1) for m in (pat.match(os.path.basename(k)) for k in keys) if m), reverse=True)
        named = {part_key(prefix, date, svc, st, kind) for st in stamps}
        ignored += [k for k in keys if os.path.basename(k).startswith(svc + "-") and not k.endswith(MANIFEST) and k not in named]
        if time:
            stamps = [st for st in stamps if st == time]
        if stamps:
            st = stamps[0]
            found[svc] = (read_manifest(store, manifest_key(prefix, date, svc, st), work, prefix, date, svc, st, kind), kind)
    return found, ignored


def cmd_list(args):
    cfg = load_config()
    store = Store(cfg, args.source or cfg["backup"]["destination"])
    date = args.date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    work = tempfile.mkdtemp(prefix="ziggie-list-", dir=cfg["backup"].get("workDir", "/var/tmp"))
    try:
        found, ignored = find_backups(cfg, store, date.replace("-", "/"), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for svc, (m, _) in found.items():
        log("%s\t%s\t%s\tsha256:%s" % (svc, m["key"], m["time"], m["sha256"][:12]))
    for k in ignored:
        log("ignored (no manifest names it): %s" % k)
    return 0


def mount_source(container, path):
    r = docker(["inspect", "-f", "{{json .Mounts}}", container], stdout=subprocess.PIPE, check=True)
    for m in json.loads(r.stdout.decode() or "[]"):
        if m.get("Destination", "").rstrip("/") == path.rstrip("/"):
            return m.get("Source")
    return None


KIND = {tarfile.SYMTYPE: "a symlink", tarfile.LNKTYPE: "a hard link", tarfile.CHRTYPE: "a character device",
        tarfile.BLKTYPE: "a block device", tarfile.FIFOTYPE: "a FIFO"}


def check_archive(t, archive):
    """Every member of the archive, before anything is changed: only regular files and directories, each a
    relative path with no `..`. A link, device or FIFO (or an odd name) anywhere refuses the whole archive."""
    members, seen = t.getmembers(), set()
    for m in members:
        norm = "/".join(p for p in m.name.split("/") if p not in ("", "."))
        if norm in seen:
            raise Fail("refusing %s: %s appears twice" % (archive, m.name))
        seen.add(norm)
        what = None if m.isreg() or m.isdir() else KIND.get(m.type, "a special file (type %r)" % m.type)
        parts = m.name.split("/")
        if what:
            raise Fail("refusing %s: %s is %s (a restore writes files and directories only)" % (archive, m.name, what))
        if not m.name or m.name.startswith("/") or ".." in parts or "\0" in m.name:
            raise Fail("refusing %s: member %r would resolve outside its backup path" % (archive, m.name))
    return members


def select(members, rel):
    """The members under one backup path (`home/node/.n8n`), with names relative to it."""
    out = []
    for m in members:
        name = "/".join(p for p in m.name.split("/") if p not in ("", "."))
        if name == rel or name.startswith(rel + "/"):
            out.append((name[len(rel):].lstrip("/"), m))
    return out


def extract_into(t, chosen, dest):
    """Write checked members under `dest` (an emptied volume directory) without following any link: each parent
    is resolved and must stay inside `dest`, files are created O_EXCL|O_NOFOLLOW. Owners are kept (numeric),
    setuid/setgid/sticky bits are not."""
    root = os.path.realpath(dest)
    inside = lambda p: p == root or p.startswith(root + os.sep)  # noqa: E731
    dirs = []
    for name, m in sorted(chosen, key=lambda x: x[0]):
        target = os.path.join(root, name) if name else root
        parent = os.path.realpath(os.path.dirname(target)) if name else root
        if not inside(parent) or not inside(os.path.normpath(target)):
            raise Fail("member %s resolves outside %s" % (m.name, dest))
        if m.isdir():
            if name:
                os.makedirs(target, mode=0o700, exist_ok=True)
            if os.path.islink(target) or not inside(os.path.realpath(target)):
                raise Fail("member %s resolves outside %s" % (m.name, dest))
            dirs.append((target, m))
            continue
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        if not inside(os.path.realpath(os.path.dirname(target))):
            raise Fail("member %s resolves outside %s" % (m.name, dest))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(t.extractfile(m), f)
            os.fchown(f.fileno(), m.uid, m.gid)
            os.fchmod(f.fileno(), m.mode & 0o777)
        os.utime(target, (m.mtime, m.mtime), follow_symlinks=False)
    for target, m in reversed(dirs):  # deepest first, after their content is written
        os.chown(target, m.uid, m.gid, follow_symlinks=False)
        os.chmod(target, m.mode & 0o777)
        os.utime(target, (m.mtime, m.mtime), follow_symlinks=False)


def empty_dir(path):
    for entry in os.listdir(path):
        e = os.path.join(path, entry)
        shutil.rmtree(e) if os.path.isdir(e) and not os.path.islink(e) else os.unlink(e)


def restore_archive(a, archive):
    """Stop the container, replace each backup path's content with the archive's, start it again. A path that
    is a volume or bind mount is emptied first (an exact restore); otherwise `docker cp` merges into it. The
    archive is checked whole before the container is touched."""
    with tarfile.open(archive, "r:gz") as t:
        members = check_archive(t, archive)
        plan = []
        for path in a["paths"]:
            rel = path.strip("/")
            chosen = select(members, rel)
            if not chosen:
                raise Fail("%s holds nothing under %s" % (archive, path))
            plan.append((path, rel, chosen))
        was_running = container_running(a["container"])
        if was_running:
            docker(["stop", a["container"]], stdout=subprocess.DEVNULL, check=True)
        try:
            for path, rel, chosen in plan:
                src = mount_source(a["container"], path)
                if src:
                    empty_dir(src)
                    extract_into(t, chosen, src)
                else:
                    parent = os.path.dirname(rel)
                    buf = io.BytesIO()
                    with tarfile.open(fileobj=buf, mode="w") as out:
                        for name, m in chosen:
                            c = copy.copy(m)
                            c.name, c.mode = os.path.basename(rel) + ("/" + name if name else ""), m.mode & 0o777
                            out.addfile(c, t.extractfile(m) if m.isreg() else None)
                    docker(["cp", "-a", "-", "%s:/%s" % (a["container"], parent)], input=buf.getvalue(), check=True)
                log("restored %s:%s" % (a["container"], path))
        finally:
            if was_running:
                docker(["start", a["container"]], stdout=subprocess.DEVNULL, check=True)


def restore_postgres(pg, dump):
    with gzip.open(dump, "rb") as f:
        p = subprocess.Popen(["docker", "exec", "-i", pg["container"], "psql", "-q", "-U", pg["user"], "-d", "postgres"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        shutil.copyfileobj(f, p.stdin)
        p.stdin.close()
        err = p.stderr.read()
        if p.wait() != 0:
            raise Fail("psql in %s failed: %s" % (pg["container"], err.decode("utf-8", "replace").strip()[-300:]))
    log("restored %s from %s" % (pg["container"], os.path.basename(dump)))


def cmd_restore(args):
    """Fetch every part, verify each against its manifest (and each archive's members), then restore: a part
    that fails a check stops the restore before anything is replaced."""
    cfg = load_config()
    b = cfg["backup"]
    if not args.yes:
        raise Fail("restore replaces live data: add --yes")
    archives = {a["service"]: a for a in b.get("archives", [])}
    pg = b.get("postgres")
    work = tempfile.mkdtemp(prefix="ziggie-restore-", dir=b.get("workDir", "/var/tmp"))
    os.chmod(work, 0o700)
    try:
        parts = []
        if args.archive:
            if not args.service:
                raise Fail("--archive needs --service")
            kind = "sql" if pg and pg["service"] == args.service else "tar"
            if args.sha256 and sha256_file(args.archive) != args.sha256.lower():
                raise Fail("%s does not have sha256 %s: nothing was restored" % (args.archive, args.sha256))
            parts.append((args.service, kind, args.archive))
        else:
            if not args.date:
                raise Fail("--date YYYY/MM/DD is required (list-backups shows what exists)")
            store = Store(cfg, args.source or b["destination"])
            todo, ignored = find_backups(cfg, store, args.date.replace("-", "/"), work, args.service, args.time)
            for k in ignored:
                log("ignored (no manifest names it): %s" % k)
            if not todo:
                raise Fail("no backup with a manifest for %s on %s" % (args.service or "any service", args.date))
            for svc, (manifest, kind) in sorted(todo.items()):
                local = os.path.join(work, os.path.basename(manifest["key"]))
                store.get(manifest["key"], local)
                verify_part(local, manifest)
                log("fetched %s (sha256 %s… verified)" % (manifest["key"], manifest["sha256"][:12]))
                parts.append((svc, kind, local))
        for svc, kind, local in parts:
            if kind == "tar":
                if svc not in archives:
                    raise Fail("%s has no backup paths configured" % svc)
                with tarfile.open(local, "r:gz") as t:
                    check_archive(t, local)
            elif not pg:
                raise Fail("%s: no postgres service is configured" % svc)
        for svc, kind, local in parts:
            if kind == "sql":
                restore_postgres(pg, local)
            else:
                restore_archive(archives[svc], local)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="ziggie-vps", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch-secrets", help="Secrets Manager -> tmpfs env files")
    f.add_argument("--service")
    f.add_argument("--retry-for", type=int, default=0, metavar="SECONDS", help="keep retrying failures this long (boot)")
    f.add_argument("--allow-any-dir", action="store_true", help=argparse.SUPPRESS)
    bk = sub.add_parser("backup", help="dump Postgres and archive backupPaths to the backup destination")
    bk.add_argument("--dest", help="s3://bucket[/prefix] or file:///dir (default: vps.json backup.destination)")
    ls = sub.add_parser("list-backups", help="the newest backup per service on a date")
    ls.add_argument("--date", help="YYYY/MM/DD (default today, UTC)")
    ls.add_argument("--from", dest="source")
    ls.add_argument("--credentials", help="a shared-credentials file that may read the backups (the VPS's own key only writes)")
    rs = sub.add_parser("restore", help="restore Postgres and/or backupPaths from a backup")
    rs.add_argument("--date", help="YYYY/MM/DD")
    rs.add_argument("--time", help="HHMMSS of a specific run (default: the newest that day)")
    rs.add_argument("--service", help="one service (default: every service with a backup that day)")
    rs.add_argument("--from", dest="source", help="s3://bucket or file:///dir (default: the backup destination)")
    rs.add_argument("--archive", help="a local archive or dump instead of the destination (needs --service)")
    rs.add_argument("--sha256", help="with --archive: refuse the file unless it has this sha256 (its manifest's)")
    rs.add_argument("--credentials", help="a shared-credentials file that may read the backups (the VPS's own key only writes)")
    rs.add_argument("--yes", action="store_true", help="really replace live data")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        raise Fail("run as root")
    os.umask(0o077)
    Aws.credentials_override = getattr(args, "credentials", None)
    return {"fetch-secrets": cmd_fetch_secrets, "backup": cmd_backup, "list-backups": cmd_list, "restore": cmd_restore}[args.cmd](args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("ziggie-vps: error: %s" % e, file=sys.stderr)
        sys.exit(1)
    except subprocess.CalledProcessError as e:
        print("ziggie-vps: error: %s exited %s" % (" ".join(e.cmd[:3]), e.returncode), file=sys.stderr)
        sys.exit(1)
