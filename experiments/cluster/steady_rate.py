"""The steady training rate of a run folder, shared by overhead.sh and quickstart-ratio.sh.

From the input's step spans in traces.jsonl: the steps from 50 (a short run: its second half) to the last
over the time between their starts, so that the pipeline's filling and the JIT's first recompilations are
left out. In images/s, each two-view sample counted once.
"""
import datetime
import json


def started(stamp):
    # "2026-12-04T10:28:10.7569473Z" in seconds (seven decimals, more than Python's ISO parser reads)
    day, clock = stamp.rstrip("Z").split("T")
    h, m, sec = clock.split(":")
    return datetime.date.fromisoformat(day).toordinal() * 86400 + int(h) * 3600 + int(m) * 60 + float(sec)


def step_starts(folder):
    """Each step's start, in seconds, from the input node's step spans."""
    starts = {}
    for line in open(f"{folder}/traces.jsonl"):
        span = json.loads(line)
        if span["name"] == "step" and span["tags"].get("plastic.node") == "input":
            starts[span["tags"]["plastic.step"]] = started(span["start_utc"])
    return starts


def steady(folder, batch):
    starts = step_starts(folder)
    last = max(starts)
    first = min(50, last // 2)
    return (last - first) * batch / (starts[last] - starts[first])
