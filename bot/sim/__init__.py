"""The only simulator: a fake GitHub, the one payload builder, the stack launcher and the demo.
Imported by the demo command, tests, bench and scripts only (tests/test_boundaries_sim.py)."""
