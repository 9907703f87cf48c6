#!/usr/bin/python3
"""ziggie-vps: the VPS side of `npm run provision:vps`. Installed as /usr/local/sbin/ziggie-vps (root only).

  ziggie-vps fetch-secrets [--service S]     Secrets Manager -> /run/ziggie/secrets/<service>.env (tmpfs, 0600)
  ziggie-vps backup [--dest URL]             pg_dumpall + backupPaths archives -> <dest>/<prefix>YYYY/MM/DD/...
  ziggie-vps list-backups [--date Y/M/D]     what a restore would find
  ziggie-vps restore --date Y/M/D --yes [--service S] [--time HHMMSS] [--from URL] [--archive FILE]

Why Python + botocore: Ubuntu ships python3 on every server image and python3-botocore in its archive (apt, signed,
security updates), and botocore signs SigV4, reads the shared credentials file, retries and knows every region.
The AWS CLI is the fallback when botocore is missing: Ubuntu 24.04 no longer packages `awscli`, and its v2
installer is a download outside apt. Node is not needed on the VPS.

Never prints, logs or writes a secret value anywhere but the tmpfs env files.
Settings: /etc/ziggie/vps.json (written by the playbook, no secrets). Credentials: /etc/ziggie/aws-credentials
(root, 0600, shared-credentials format). Endpoint overrides (tests, VPC endpoints): "endpoints" in vps.json or
AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_S3.
"""
import argparse
import datetime
import gzip
import io
import json
import os
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


def env_quote(value):
    """Compose env_file syntax: a double-quoted value in which \\ " $ and control characters are escaped
    (compose unescapes exactly these, and does not interpolate an escaped $)."""
    if "\0" in value:
        raise Fail("a secret value contains a NUL byte, which no environment variable can hold")
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return '"' + out + '"'


def write_private(path, data):
    """Atomic write, 0600 from creation (the temp file is never readable by anyone else)."""
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
        lines = []
        for env, name in sorted(svc["secrets"].items()):
            if name not in cache:
                try:
                    cache[name] = aws.get_secret(name)
                except Fail as e:
                    failed.append(str(e))
                    cache[name] = None
            if cache[name] is not None:
                lines.append("%s=%s\n" % (env, env_quote(cache[name])))
        if any(cache[n] is None for n in svc["secrets"].values()):
            continue  # keep the previous file: a half-filled env file would start the service without a secret
        write_private(os.path.join(secrets_dir, svc["name"] + ".env"), "".join(lines))
        log("%s: %d secret(s) -> %s/%s.env" % (svc["name"], len(lines), secrets_dir, svc["name"]))
    if not args.service:
        wanted = {s["name"] + ".env" for s in services}
        for f in os.listdir(secrets_dir):
            if f.endswith(".env") and f not in wanted:
                os.unlink(os.path.join(secrets_dir, f))
                log("removed %s (no longer configured)" % f)
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
    the leading /). `docker cp CONTAINER:PATH -` streams a tar: no tar binary is needed in the image."""
    with open(out_path, "wb") as raw, tarfile.open(fileobj=raw, mode="w|gz") as out:
        for path in paths:
            parent = os.path.dirname(path.rstrip("/")).lstrip("/")
            p = subprocess.Popen(["docker", "cp", "%s:%s" % (container, path), "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with tarfile.open(fileobj=p.stdout, mode="r|") as src:
                for m in src:
                    m.name = parent + "/" + m.name if parent else m.name
                    if m.islnk():
                        m.linkname = parent + "/" + m.linkname if parent else m.linkname
                    out.addfile(m, src.extractfile(m) if m.isreg() else None)
            err = p.stderr.read()
            if p.wait() != 0:
                raise Fail("docker cp %s:%s failed: %s" % (container, path, err.decode("utf-8", "replace").strip()[-300:]))


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
            key = "%s%s/%s-%s.sql.gz" % (pg["prefix"], day, pg["service"], stamp)
            try:
                path = os.path.join(work, "pg.sql.gz")
                dump_postgres(pg, path)
                store.put(key, path)
                log("uploaded %s (%d bytes)" % (key, os.path.getsize(path)))
            except Exception as e:  # one part failing must not stop the others
                failed.append("%s: %s" % (pg["service"], e))
        for a in b.get("archives", []):
            key = "%s%s/%s-%s.tar.gz" % (a["prefix"], day, a["service"], stamp)
            try:
                path = os.path.join(work, a["service"] + ".tar.gz")
                archive_paths(a["container"], a["paths"], path)
                store.put(key, path)
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


def find_backups(cfg, store, date, service=None, time=None):
    """The newest object per service on `date` (or the one taken at `time`)."""
    found = {}
    for svc, (prefix, kind) in sorted(backup_sets(cfg).items()):
        if service and svc != service:
            continue
        ext = ".sql.gz" if kind == "sql" else ".tar.gz"
        keys = [k for k in store.list("%s%s/" % (prefix, date)) if os.path.basename(k).startswith(svc + "-") and k.endswith(ext)]
        if time:
            keys = [k for k in keys if os.path.basename(k) == "%s-%s%s" % (svc, time, ext)]
        if keys:
            found[svc] = (sorted(keys)[-1], kind)
    return found


def cmd_list(args):
    cfg = load_config()
    store = Store(cfg, args.source or cfg["backup"]["destination"])
    date = args.date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    for svc, (key, _) in find_backups(cfg, store, date).items():
        log("%s\t%s" % (svc, key))
    return 0


def mount_source(container, path):
    r = docker(["inspect", "-f", "{{json .Mounts}}", container], stdout=subprocess.PIPE, check=True)
    for m in json.loads(r.stdout.decode() or "[]"):
        if m.get("Destination", "").rstrip("/") == path.rstrip("/"):
            return m.get("Source")
    return None


def restore_archive(a, archive):
    """Stop the container, replace each backup path's content with the archive's, start it again. A path that
    is a volume or bind mount is emptied first (an exact restore); otherwise `docker cp` merges into it."""
    was_running = container_running(a["container"])
    if was_running:
        docker(["stop", a["container"]], stdout=subprocess.DEVNULL, check=True)
    try:
        for path in a["paths"]:
            rel = path.strip("/")
            parent = os.path.dirname(rel)
            src = mount_source(a["container"], path)
            with tarfile.open(archive, "r:gz") as t:
                members = [m for m in t.getmembers() if m.name == rel or m.name.startswith(rel + "/")]
                if not members:
                    raise Fail("%s holds nothing under %s" % (archive, path))
                for m in members:
                    if m.name.startswith("/") or ".." in m.name.split("/"):
                        raise Fail("unsafe member %s in %s" % (m.name, archive))
                if src:
                    for entry in os.listdir(src):
                        e = os.path.join(src, entry)
                        shutil.rmtree(e) if os.path.isdir(e) and not os.path.islink(e) else os.unlink(e)
                    for m in members:
                        m.name = m.name[len(rel):].lstrip("/") or "."
                        if m.islnk():
                            m.linkname = m.linkname[len(rel):].lstrip("/")
                    t.extractall(src, members=members, numeric_owner=True)
                else:
                    buf = io.BytesIO()
                    with tarfile.open(fileobj=buf, mode="w") as out:
                        for m in members:
                            m.name = m.name[len(parent):].lstrip("/") if parent else m.name
                            out.addfile(m, t.extractfile(m) if m.isreg() else None)
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
    cfg = load_config()
    b = cfg["backup"]
    if not args.yes:
        raise Fail("restore replaces live data: add --yes")
    archives = {a["service"]: a for a in b.get("archives", [])}
    pg = b.get("postgres")
    work = tempfile.mkdtemp(prefix="ziggie-restore-", dir=b.get("workDir", "/var/tmp"))
    os.chmod(work, 0o700)
    try:
        if args.archive:
            if not args.service:
                raise Fail("--archive needs --service")
            todo = {args.service: (None, "sql" if pg and pg["service"] == args.service else "tar")}
        else:
            if not args.date:
                raise Fail("--date YYYY/MM/DD is required (list-backups shows what exists)")
            store = Store(cfg, args.source or b["destination"])
            todo = find_backups(cfg, store, args.date.replace("-", "/"), args.service, args.time)
            if not todo:
                raise Fail("no backup for %s on %s" % (args.service or "any service", args.date))
        for svc, (key, kind) in sorted(todo.items()):
            local = args.archive or os.path.join(work, os.path.basename(key))
            if key:
                store.get(key, local)
                log("fetched %s" % key)
            if kind == "sql":
                restore_postgres(pg, local)
            elif svc in archives:
                restore_archive(archives[svc], local)
            else:
                raise Fail("%s has no backup paths configured" % svc)
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
