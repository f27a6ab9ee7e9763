"""A misbehaving sensor: garbage, short, duplicated and out-of-order notifications are counted
and skipped, and the stream carries on with every good sample in order."""

from __future__ import annotations

import numpy as np

from hipsense.sources.ble import SensorLink
from hipsense.virtual import Faults, FaultStats, RampSource, VirtualRadio, VirtualSensor, ramp_block

from .conftest import Collector, first_index

TOTAL = 4000


async def test_bad_notifications_are_counted_and_skipped() -> None:
    faults = Faults(garbage_every=7, short_every=11, duplicate_every=5, reorder_every=13, seed=3)
    async with VirtualRadio() as radio:
        sensor: VirtualSensor = await radio.add_sensor(
            "hipsense-0003", RampSource(TOTAL), pacing="fast", faults=faults
        )
        stats = sensor.faults.stats
        async with SensorLink("hipsense-0003", "right_thigh", backend=radio.bleak_backend) as link:
            got = Collector(link)
            await got.until(
                lambda c: (
                    sensor.ended.is_set() and c.samples > 0 and c.last_index() == last_good(stats)
                )
            )
            await got.close()
            status = link.status()
            assert link.info is not None
            scale = link.info.gyr_scale_radps_per_lsb

    assert min(stats.garbage, stats.short, stats.duplicated, stats.reordered) > 5
    good = good_indices(stats)
    np.testing.assert_array_equal(got.indices(), good)
    np.testing.assert_array_equal(got.cat("gyr_radps"), ramp_block(0, TOTAL).gyr_raw[good] * scale)
    assert status.malformed == stats.garbage + stats.short
    assert status.duplicates == stats.duplicated
    assert status.out_of_order == stats.reordered
    assert status.lost_samples == TOTAL - good.size - trailing_spoiled(stats)
    lost_runs = [(first_index(b), b.lost_before) for b in got.batches if b.lost_before]
    assert sum(n for _, n in lost_runs) == status.lost_samples


def good_indices(stats: FaultStats) -> np.ndarray:
    keep = np.ones(TOTAL, dtype=bool)
    for first, count in stats.spoiled:
        keep[first : first + count] = False
    return np.flatnonzero(keep)


def last_good(stats: FaultStats) -> int:
    return int(good_indices(stats)[-1])


def trailing_spoiled(stats: FaultStats) -> int:
    """Spoiled samples after the last good one: no later packet reveals them as lost."""
    return TOTAL - 1 - last_good(stats)
