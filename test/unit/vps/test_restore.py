"""`ziggie-vps restore` against hostile backups: the real program, real tar archives, a real file:// backup store
and real extraction into a temporary "volume". Docker is a fake on PATH (it answers `inspect` with the volume's
host directory and records stop/start/cp); everything else runs as it does on the VPS.

Run: python3 -m unittest discover -s test/unit/vps -p 'test_*.py'   (jest runs it too: restore.test.ts)
"""
import argparse
import datetime
import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import unittest

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "..", "playbooks", "hostinger-vps", "ziggie-vps.py")
spec = importlib.util.spec_from_file_location("ziggie_vps", SCRIPT)
vps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vps)

DAY = "2026/11/22"
NOW = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=datetime.timezone.utc)
PREFIX = "n8n/workflows/"
REL = "home/node/.n8n"


def member(name, type_=tarfile.REGTYPE, data=b"", linkname="", mode=0o644, uid=1000, gid=1000):
    m = tarfile.TarInfo(name)
    m.type, m.linkname, m.mode, m.uid, m.gid, m.mtime = type_, linkname, mode, uid, gid, 1_700_000_000
    m.size = len(data) if type_ == tarfile.REGTYPE else 0
    return m, (io.BytesIO(data) if type_ == tarfile.REGTYPE else None)


def tar_gz(path, members):
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for m, f in members:
            t.addfile(m, f)


def good_members(token):
    return [
        member(REL, tarfile.DIRTYPE, mode=0o755),
        member(REL + "/wf", tarfile.DIRTYPE, mode=0o700),
        member(REL + "/wf/one.json", data=("n8n-%s\n" % token).encode(), mode=0o4755),
        member(REL + "/config", data=b'{"encryptionKey": "from-backup"}\n', mode=0o600),
    ]


def read(*parts, mode="r"):
    with open(os.path.join(*parts), mode) as f:
        return f.read()


def tree(root):
    """Every path under root with its type and content hash: the 'nothing changed' witness."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            h = ""
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(p, root)] = (stat.S_IFMT(st.st_mode), h)
    return out


class Restore(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vps-restore-")
        self.volume = os.path.join(self.dir, "volume")        # the n8n volume's host directory
        self.outside = os.path.join(self.dir, "outside")      # what a hostile archive aims at
        self.store_dir = os.path.join(self.dir, "store")
        self.work = os.path.join(self.dir, "work")
        for d in (self.volume, self.outside, self.store_dir, self.work):
            os.makedirs(d)
        with open(os.path.join(self.volume, "live.json"), "w") as f:
            f.write("live data\n")
        with open(os.path.join(self.outside, "keep.txt"), "w") as f:
            f.write("outside\n")
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(bindir)
        self.docker_log = os.path.join(self.dir, "docker.log")
        with open(os.path.join(bindir, "docker"), "w") as f:  # noqa: SIM115
            f.write("#!/bin/sh\necho \"$@\" >> %s\n" % self.docker_log
                    + 'case "$*" in\n'
                    + '  *"{{.State.Running}}"*) echo true ;;\n'
                    + '  *"{{json .Mounts}}"*) echo \'[{"Source": "%s", "Destination": "/%s"}]\' ;;\n' % (self.volume, REL)
                    + "esac\n")
        os.chmod(os.path.join(bindir, "docker"), 0o755)
        self.path = os.environ["PATH"]
        os.environ["PATH"] = bindir + ":" + self.path
        self.config = os.path.join(self.dir, "vps.json")
        with open(self.config, "w") as f:
            json.dump({"region": "eu-north-1", "backup": {
                "destination": "file://" + self.store_dir, "workDir": self.work,
                "archives": [{"service": "n8n", "container": "ziggie-n8n", "paths": ["/" + REL], "prefix": PREFIX}],
            }}, f)
        vps.CONFIG = self.config
        self.store = vps.Store(json.loads(read(self.config)), "file://" + self.store_dir)
        self.before_outside = tree(self.outside)

    def tearDown(self):
        os.environ["PATH"] = self.path
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------------------------
    def backup(self, members, stamp="031500", now=NOW):
        """A run exactly as `ziggie-vps backup` uploads it: the part, then its manifest."""
        local = os.path.join(self.dir, "part-%s.tar.gz" % stamp)
        tar_gz(local, members)
        return vps.upload_part(self.store, PREFIX, DAY, stamp, "n8n", "tar", local, now)

    def restore(self, **kw):
        args = argparse.Namespace(yes=True, date=DAY, time=None, service=None, source=None, archive=None, sha256=None)
        for k, v in kw.items():
            setattr(args, k, v)
        return vps.cmd_restore(args)

    def assertRefused(self, pattern, **kw):
        before = tree(self.volume)
        with self.assertRaisesRegex(vps.Fail, pattern):
            self.restore(**kw)
        self.assertEqual(tree(self.volume), before, "the volume was changed by a refused restore")
        self.assertEqual(tree(self.outside), self.before_outside, "something was written outside the volume")
        self.assertFalse(os.path.exists(self.docker_log) and "stop" in read(self.docker_log),
                         "the container was stopped for a refused restore")

    # -- the good path ---------------------------------------------------------------------------------------
    def test_a_manifested_backup_restores_exactly_its_files_with_owners_and_without_setuid(self):
        self.backup(good_members("t1"))
        self.restore()
        got = tree(self.volume)
        self.assertEqual(sorted(got), ["config", "wf", "wf/one.json"])  # live.json is gone: an exact restore
        with open(os.path.join(self.volume, "wf", "one.json")) as f:
            self.assertEqual(f.read(), "n8n-t1\n")
        st = os.stat(os.path.join(self.volume, "wf", "one.json"))
        if os.geteuid() == 0:
            self.assertEqual((st.st_uid, st.st_gid), (1000, 1000))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o755)  # 4755 in the archive: setuid dropped
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.volume, "wf")).st_mode), 0o700)
        self.assertIn("stop ziggie-n8n", read(self.docker_log))
        self.assertIn("start ziggie-n8n", read(self.docker_log))

    def test_the_manifest_records_name_time_sha256_and_size(self):
        key = self.backup(good_members("t2"))
        m = json.loads(read(self.store_dir, PREFIX + DAY + "/n8n-031500.manifest.json"))
        data = read(self.store_dir, key, mode="rb")
        self.assertEqual(m, {"version": 1, "service": "n8n", "kind": "tar", "key": key, "time": "2026-11-22T03:15:00Z",
                             "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    # -- hostile archives, each behind a valid manifest (the manifest proves who wrote it, not what is inside) -
    def test_symlink_then_a_file_through_it(self):
        self.backup(good_members("x")[:1] + [member(REL + "/link", tarfile.SYMTYPE, linkname=self.outside),
                                             member(REL + "/link/pwned.txt", data=b"pwned\n")])
        self.assertRefused(r"link is a symlink")
        self.assertFalse(os.path.exists(os.path.join(self.outside, "pwned.txt")))

    def test_relative_symlink_up_and_out(self):
        self.backup([member(REL + "/up", tarfile.SYMTYPE, linkname="../../../../outside"), member(REL + "/up/x", data=b"x")])
        self.assertRefused(r"is a symlink")

    def test_hard_link_to_etc_passwd(self):
        passwd = hashlib.sha256(read("/etc/passwd", mode="rb")).hexdigest()
        for target in ("/etc/passwd", "etc/passwd", "../../../../etc/passwd"):
            self.backup([member(REL + "/passwd", tarfile.LNKTYPE, linkname=target)])
            self.assertRefused(r"passwd is a hard link")
        self.assertEqual(hashlib.sha256(read("/etc/passwd", mode="rb")).hexdigest(), passwd)

    def test_devices_and_fifos(self):
        for type_, what in ((tarfile.CHRTYPE, "a character device"), (tarfile.BLKTYPE, "a block device"), (tarfile.FIFOTYPE, "a FIFO")):
            self.backup(good_members("d") + [member(REL + "/dev", type_)])
            self.assertRefused("dev is " + what)

    def test_dot_dot_and_absolute_names(self):
        for name in (REL + "/../../../outside/evil.txt", "../outside/evil.txt", "/" + REL + "/evil.txt",
                     os.path.join(self.outside, "evil.txt")):
            self.backup(good_members("p") + [member(name, data=b"evil\n")])
            self.assertRefused(r"would resolve outside its backup path")
        self.assertFalse(os.path.exists(os.path.join(self.outside, "evil.txt")))

    def test_a_duplicate_member(self):
        self.backup(good_members("d") + [member(REL + "/config", data=b"second\n")])
        self.assertRefused(r"appears twice")

    def test_extraction_itself_follows_no_link_already_in_the_volume(self):
        """Defence in depth under check_archive: a link already in the target is not followed."""
        os.symlink(self.outside, os.path.join(self.volume, "wf"))
        local = os.path.join(self.dir, "p.tar.gz")
        tar_gz(local, good_members("l"))
        with tarfile.open(local, "r:gz") as t:
            chosen = vps.select(vps.check_archive(t, local), REL)
            with self.assertRaisesRegex(vps.Fail, r"resolves outside"):
                vps.extract_into(t, chosen, self.volume)
        self.assertEqual(tree(self.outside), self.before_outside)

    # -- choosing and verifying the run ----------------------------------------------------------------------
    def test_a_planted_later_key_without_a_manifest_does_not_win(self):
        self.backup(good_members("real"))
        planted = os.path.join(self.store_dir, PREFIX + DAY, "n8n-235959.tar.gz")
        tar_gz(planted, good_members("planted"))
        found, ignored = vps.find_backups(json.loads(read(self.config)), self.store, DAY, self.work)
        self.assertEqual(found["n8n"][0]["key"], PREFIX + DAY + "/n8n-031500.tar.gz")
        self.assertEqual(ignored, [PREFIX + DAY + "/n8n-235959.tar.gz"])
        self.restore()
        self.assertEqual(read(self.volume, "wf", "one.json"), "n8n-real\n")

    def test_the_newest_manifested_run_wins_and_time_picks_another(self):
        self.backup(good_members("early"), stamp="010000", now=NOW.replace(hour=1, minute=0))
        self.backup(good_members("late"), stamp="031500")
        self.restore()
        self.assertEqual(read(self.volume, "wf", "one.json"), "n8n-late\n")
        self.restore(time="010000")
        self.assertEqual(read(self.volume, "wf", "one.json"), "n8n-early\n")

    def test_a_part_changed_after_its_manifest_is_refused(self):
        key = self.backup(good_members("orig"))
        tar_gz(os.path.join(self.store_dir, key), good_members("swapped"))
        self.assertRefused(r"does not match its manifest .*nothing was restored")

    def test_a_planted_manifest_that_names_another_object_or_time_is_refused(self):
        self.backup(good_members("real"))
        bad = {"version": 1, "service": "n8n", "kind": "tar", "key": PREFIX + DAY + "/n8n-031500.tar.gz",
               "time": "2026-11-22T23:59:59Z", "sha256": "0" * 64, "size": 1}
        with open(os.path.join(self.store_dir, PREFIX + DAY, "n8n-235959.manifest.json"), "w") as f:
            json.dump(bad, f)
        self.assertRefused(r"n8n-235959.manifest.json does not describe .*n8n-235959.tar.gz")
        self.restore(time="031500")  # the operator can still pick the real run
        self.assertEqual(read(self.volume, "wf", "one.json"), "n8n-real\n")

    def test_a_day_with_only_unmanifested_objects_restores_nothing(self):
        os.makedirs(os.path.join(self.store_dir, PREFIX + DAY))
        tar_gz(os.path.join(self.store_dir, PREFIX + DAY, "n8n-031500.tar.gz"), good_members("old"))
        self.assertRefused(r"no backup with a manifest for any service")

    def test_a_local_archive_with_a_wrong_sha256_is_refused(self):
        local = os.path.join(self.dir, "copied.tar.gz")
        tar_gz(local, good_members("local"))
        self.assertRefused(r"does not have sha256", archive=local, service="n8n", sha256="ab" * 32)
        self.restore(archive=local, service="n8n", sha256=vps.sha256_file(local))
        self.assertEqual(read(self.volume, "wf", "one.json"), "n8n-local\n")

    def test_a_hostile_local_archive_is_refused_too(self):
        local = os.path.join(self.dir, "copied.tar.gz")
        tar_gz(local, [member(REL + "/link", tarfile.SYMTYPE, linkname="/"), member(REL + "/link/etc/x", data=b"x")])
        self.assertRefused(r"is a symlink", archive=local, service="n8n")


if __name__ == "__main__":
    unittest.main()
