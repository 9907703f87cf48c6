"""The worker's pure decisions (playbooks/comfyui/comfyui-worker.py), without boto3, SQS or ComfyUI."""
import importlib.util
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ beside the playbook's sources

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "comfyui_worker", os.path.join(HERE, "..", "..", "..", "playbooks", "comfyui", "comfyui-worker.py"))
w = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w)


class ParseJob(unittest.TestCase):
    def test_a_job(self):
        job = w.parse_job('{"jobId": "a-1", "workflow": {"1": {"class_type": "SaveImage"}}, "callbackUrl": "https://n8n/x"}')
        self.assertEqual(job["jobId"], "a-1")
        self.assertEqual(job["callbackUrl"], "https://n8n/x")

    def test_refusals_name_what_is_wrong(self):
        for body, why in [("nope", "not JSON"), ("[]", "not a JSON object"), ('{"jobId": "../x", "workflow": {"a": 1}}', "jobId"),
                          ('{"jobId": "a", "workflow": {}}', "workflow"),
                          ('{"jobId": "a", "workflow": {"a": 1}, "callbackUrl": "file:///etc/passwd"}', "callbackUrl")]:
            with self.assertRaises(w.BadJob) as e:
                w.parse_job(body)
            self.assertIn(why, str(e.exception))


class Outputs(unittest.TestCase):
    def test_stable_names_by_node_and_index_not_by_comfyuis_counter(self):
        outputs = {"12": {"images": [{"filename": "z_00007_.png", "subfolder": "", "type": "output"}]},
                   "9": {"images": [{"filename": "z_00005_.png", "subfolder": "a", "type": "output"},
                                    {"filename": "z_00006_.PNG", "subfolder": "", "type": "output"},
                                    {"filename": "preview.png", "subfolder": "", "type": "temp"}]}}
        self.assertEqual([f["name"] for f in w.output_files(outputs)], ["9-0.png", "9-1.png", "12-0.png"])
        self.assertEqual(w.output_files(outputs)[0]["subfolder"], "a")

    def test_history_outcomes(self):
        self.assertEqual(w.history_outcome({}, "p"), ("pending", None))
        ok = {"p": {"outputs": {"9": {"images": [{"filename": "x.png", "type": "output"}]}}, "status": {"status_str": "success", "completed": True}}}
        self.assertEqual(w.history_outcome(ok, "p")[0], "success")
        err = {"p": {"outputs": {}, "status": {"status_str": "error", "completed": False,
                                               "messages": [["execution_error", {"exception_message": "OOM"}]]}}}
        self.assertEqual(w.history_outcome(err, "p"), ("error", "ComfyUI: OOM"))


class Config(unittest.TestCase):
    def test_visibility_must_outlast_three_polls(self):
        config = dict(w.DEFAULTS, queue_url="q", region="r", bucket="b", visibility_seconds=5, poll_seconds=2)
        with self.assertRaises(ValueError):
            w.validate_config(config)


if __name__ == "__main__":
    unittest.main()
