"""The link drops mid-set: the client reconnects by itself and reports the gap exactly."""

from __future__ import annotations

import numpy as np
import pytest

from hipsense.errors import SensorError
from hipsense.sources.ble import ReconnectPolicy, SensorLink
from hipsense.virtual import RampSource, VirtualRadio, VirtualSensor, ramp_block

from .conftest import Collector, first_index

TOTAL = 6000
DROP_AFTER = 2000
LOST_OFFLINE = 500


async def test_link_drop_reconnects_and_reports_the_gap() -> None:
    async with VirtualRadio() as radio:
        sensor: VirtualSensor = await radio.add_sensor(
            "hipsense-0002", RampSource(TOTAL), pacing="fast"
        )
        dropped = False

        async def drop_once(got: Collector) -> None:
            nonlocal dropped
            if got.samples >= DROP_AFTER and not dropped:
                dropped = True
                await sensor.drop_link(lost_samples=LOST_OFFLINE)

        policy = ReconnectPolicy(first_delay_s=0.05)
        async with SensorLink(
            "hipsense-0002", "left_thigh", backend=radio.bleak_backend, reconnect=policy
        ) as link:
            got = Collector(link)
            # Everything after the gap must still arrive, up to the very last sample.
            await got.until(lambda c: c.samples > 0 and c.last_index() == TOTAL - 1, 30, drop_once)
            await got.close()
            final = link.status()

    indices = got.indices()
    resume = sensor.disconnect_indices[0] + LOST_OFFLINE  # first sample sent after reconnecting
    before, after = indices[indices < resume], indices[indices >= resume]
    np.testing.assert_array_equal(before, np.arange(before.size))  # no hole before the drop
    np.testing.assert_array_equal(after, np.arange(resume, TOTAL))  # nothing lost after it
    gap = resume - before.size
    assert gap >= LOST_OFFLINE
    gap_batches = [b for b in got.batches if b.lost_before]
    assert [(first_index(b), b.lost_before) for b in gap_batches] == [(resume, gap)]
    expected = ramp_block(0, TOTAL).acc_raw[indices]
    assert link.info is not None
    np.testing.assert_array_equal(got.cat("acc_mps2"), expected * link.info.acc_scale_mps2_per_lsb)
    assert np.all(np.diff(got.cat("t_s")) > 0)  # same time base across the reconnect
    states = [s.state for s in got.statuses]
    assert states[0] == "connected" and "reconnecting" in states
    assert states[states.index("reconnecting") + 1] == "connected"
    assert (final.reconnects, final.lost_samples) == (1, gap)
    assert sensor.connections_made == 2


async def test_a_sensor_that_never_returns_ends_the_stream_with_advice() -> None:
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-0004", pacing="fast")
        policy = ReconnectPolicy(first_delay_s=0.05, give_up_after_s=0.5)
        async with SensorLink(
            "hipsense-0004", backend=radio.bleak_backend, reconnect=policy, scan_timeout_s=0.2
        ) as link:
            got = Collector(link)
            await got.samples_at_least(100)
            await sensor.close()  # switched off: gone from the air
            with pytest.raises(SensorError, match="could not reconnect"):
                await got.until(lambda _c: False, timeout_s=10)
    assert [s.state for s in got.statuses][-2:] == ["reconnecting", "disconnected"]
    assert "is it charging" in got.statuses[-1].message
