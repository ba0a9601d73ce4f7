"""The benchmark script runs (a very short run; no timing assertion)."""

from __future__ import annotations

import io

from tests.bench import bench_issuing


def test_benchmark_script_runs():
    out = io.StringIO()
    rates = bench_issuing.main(["--seconds", "0.04", "--rounds", "2"], out=out)
    assert set(rates) == {"ed25519", "vc_jwt", "vc_jwt_baked", "di_pyld", "di_fast"}
    assert all(r > 0 for r in rates.values())
    report = out.getvalue()
    assert "byte-identical to pyld's on this shape: yes" in report
    assert "fast vs pyld" in report and "Ed25519 floor" in report


def test_bridge_read_benchmark_runs_and_both_modes_agree():
    from tests.bench import bench_bridge_read

    out = io.StringIO()
    figures = bench_bridge_read.main(["--learners", "12", "--workers", "2", "--perpage", "5"],
                                     out=out)
    assert figures["same"] == 1.0
    # Plugin pages: ceil(12 / 5) course-facts calls plus site info; core: several per learner.
    assert figures["plugin_calls"] < figures["core_calls"]
    assert "same facts: yes" in out.getvalue()


def test_notice_latency_benchmark_runs():
    from tests.bench import bench_notices

    out = io.StringIO()
    figures = bench_notices.main(["--rounds", "2"], out=out)
    assert figures["notice_median_s"] > 0 and figures["sync_median_s"] > 0
    assert "signed notice, one learner" in out.getvalue()
