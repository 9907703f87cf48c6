"""The watchdog's decision logic on its own (pure functions; no network, no processes).

Run: python3 -m unittest discover -s test/unit/ami -p 'test_*.py'   (jest runs it too: watchdog.test.ts)
"""
import importlib.util
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ beside the playbook's sources

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "..", "playbooks", "comfyui", "comfyui-watchdog.py")
spec = importlib.util.spec_from_file_location("comfyui_watchdog", SCRIPT)
wd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wd)

CONFIG = {"idle_minutes": 10, "thresholds": {"cpu_percent": 10, "gpu_percent": 5, "queue_depth": 1}}
T0 = 1_700_000_000.0


def idle_sample(**kw):
    s = {"queue": 0, "gpu": [0.0], "cpu": 1.0, "inhibited": False}
    s.update(kw)
    return s


class WorkerJobs(unittest.TestCase):
    def test_waiting_and_in_flight_jobs_count(self):
        self.assertEqual(wd.worker_jobs({"at": T0, "job": None, "visible": 2, "inFlight": 1}, T0 + 10, 180), 3)
        self.assertEqual(wd.worker_jobs({"at": T0, "job": "j", "visible": 0, "inFlight": 0}, T0, 180), 1)

    def test_stale_or_unknown_is_none_never_zero(self):
        self.assertIsNone(wd.worker_jobs({"at": T0, "job": None, "visible": 0, "inFlight": 0}, T0 + 181, 180))
        self.assertIsNone(wd.worker_jobs({"at": T0, "job": None, "visible": None, "inFlight": None}, T0, 180))
        self.assertIsNone(wd.worker_jobs(None, T0, 180))

    def test_a_waiting_job_keeps_the_instance_busy(self):
        d = wd.decide(idle_sample(jobs=1), {"idle_since": T0}, CONFIG, T0 + 3600)
        self.assertTrue(d["busy"])
        self.assertFalse(d["poweroff"])


class Decide(unittest.TestCase):
    def test_first_idle_run_starts_the_clock(self):
        d = wd.decide(idle_sample(), {}, CONFIG, T0)
        self.assertFalse(d["busy"])
        self.assertFalse(d["poweroff"])
        self.assertEqual(d["idle_seconds"], 0)
        self.assertEqual(d["state"], {"idle_since": T0})
        self.assertEqual(d["publish"], 0)

    def test_idle_for_the_whole_window_powers_off(self):
        d = wd.decide(idle_sample(), {"idle_since": T0}, CONFIG, T0 + 600)
        self.assertTrue(d["poweroff"])
        self.assertEqual(d["idle_seconds"], 600)

    def test_one_second_short_of_the_window_stays_up(self):
        d = wd.decide(idle_sample(), {"idle_since": T0}, CONFIG, T0 + 599)
        self.assertFalse(d["poweroff"])

    def test_a_queued_item_is_busy_and_resets_the_clock(self):
        d = wd.decide(idle_sample(queue=1), {"idle_since": T0}, CONFIG, T0 + 3600)
        self.assertTrue(d["busy"])
        self.assertFalse(d["poweroff"])
        self.assertEqual(d["state"], {"idle_since": None})
        self.assertEqual(d["reasons"], ["queue 1 >= 1"])
        self.assertEqual(d["publish"], 1)

    def test_after_busy_the_clock_starts_again(self):
        busy = wd.decide(idle_sample(queue=2), {"idle_since": T0}, CONFIG, T0 + 60)
        later = wd.decide(idle_sample(), busy["state"], CONFIG, T0 + 120)
        self.assertEqual(later["state"], {"idle_since": T0 + 120})
        self.assertFalse(later["poweroff"])

    def test_gpu_at_threshold_is_busy_below_is_idle(self):
        self.assertTrue(wd.decide(idle_sample(gpu=[0.0, 5.0]), {}, CONFIG, T0)["busy"])
        self.assertFalse(wd.decide(idle_sample(gpu=[4.9, 0.0]), {}, CONFIG, T0)["busy"])

    def test_cpu_at_threshold_is_busy(self):
        d = wd.decide(idle_sample(cpu=10.0), {"idle_since": T0}, CONFIG, T0 + 900)
        self.assertTrue(d["busy"])
        self.assertFalse(d["poweroff"])

    def test_comfyui_down_counts_as_idle_and_publishes_nothing(self):
        d = wd.decide(idle_sample(queue=None), {"idle_since": T0}, CONFIG, T0 + 600)
        self.assertTrue(d["poweroff"])
        self.assertIsNone(d["publish"])
        self.assertIn("ComfyUI /queue did not answer", d["reasons"])

    def test_no_gpu_and_no_cpu_sample_count_as_idle(self):
        d = wd.decide(idle_sample(gpu=None, cpu=None), {"idle_since": T0}, CONFIG, T0 + 600)
        self.assertTrue(d["poweroff"])

    def test_inhibited_never_powers_off_but_keeps_the_clock(self):
        d = wd.decide(idle_sample(inhibited=True), {"idle_since": T0}, CONFIG, T0 + 6000)
        self.assertFalse(d["poweroff"])
        self.assertEqual(d["state"], {"idle_since": T0})
        self.assertIn("inhibited", d["reasons"])

    def test_clock_going_backwards_restarts_the_window(self):
        d = wd.decide(idle_sample(), {"idle_since": T0 + 1000}, CONFIG, T0)
        self.assertEqual(d["state"], {"idle_since": T0})
        self.assertFalse(d["poweroff"])

    def test_garbage_state_is_treated_as_a_fresh_start(self):
        d = wd.decide(idle_sample(), {"idle_since": "yesterday"}, CONFIG, T0)
        self.assertEqual(d["state"], {"idle_since": T0})


class Parsers(unittest.TestCase):
    def test_queue_depth_counts_running_and_pending(self):
        self.assertEqual(wd.queue_depth({"queue_running": [[1]], "queue_pending": [[2], [3]]}), 3)
        self.assertEqual(wd.queue_depth({"queue_running": [], "queue_pending": []}), 0)
        with self.assertRaises(ValueError):
            wd.queue_depth(["not", "an", "object"])

    def test_nvidia_smi_lines(self):
        self.assertEqual(wd.parse_nvidia_smi("3\n97\n"), [3.0, 97.0])
        self.assertEqual(wd.parse_nvidia_smi("[N/A]\n12 %\n\n"), [12.0])
        self.assertEqual(wd.parse_nvidia_smi(""), [])

    def test_cpu_percent_from_two_proc_stat_samples(self):
        a = wd.cpu_counters("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n")
        b = wd.cpu_counters("cpu  150 0 150 1700 0 0 0 0 0 0\n")
        self.assertEqual(a, [200, 1000])
        self.assertAlmostEqual(wd.cpu_percent(a, b), 10.0)
        self.assertIsNone(wd.cpu_percent(None, b))
        self.assertIsNone(wd.cpu_percent(b, b))

    def test_emf_document_names_the_contract_metric(self):
        config = wd.load_config(None)
        decision = wd.decide(idle_sample(queue=2), {}, CONFIG, T0)
        doc = wd.emf_document(config, "i-0123456789abcdef0", 2, decision, idle_sample(queue=2, gpu=[40.0]), T0)
        self.assertEqual(doc["_aws"]["CloudWatchMetrics"], [{
            "Namespace": "Ziggie/ComfyUI", "Dimensions": [["InstanceId"]],
            "Metrics": [{"Name": "QueueDepth", "Unit": "Count"}]}])
        self.assertEqual(doc["_aws"]["Timestamp"], int(T0 * 1000))
        self.assertEqual(doc["_aws"]["LogGroupName"], "/ziggie/comfyui")
        self.assertEqual(doc["InstanceId"], "i-0123456789abcdef0")
        self.assertEqual(doc["QueueDepth"], 2)
        self.assertEqual(doc["gpuPercent"], 40.0)


if __name__ == "__main__":
    unittest.main()
