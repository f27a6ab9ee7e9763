"""A simulated forward-swing set streamed through the virtual sensor arrives exactly as the
simulator produced it: its lost samples show up as gaps, everything else bit-exact."""

from __future__ import annotations

import numpy as np

from hipsense.exercises import Leg
from hipsense.sim import Conditions, plan_set, simulate
from hipsense.sources.ble import SensorLink
from hipsense.virtual import ArraySource, VirtualRadio

from .conftest import Collector


async def test_simulated_session_streams_with_its_losses_as_gaps() -> None:
    plan = plan_set("swing-forward", Leg.RIGHT, 3, np.random.default_rng(4))
    conditions = Conditions.clean().with_(lost_fraction=0.02, lost_burst=20)
    session = simulate(plan, rate_hz=200, seed=4, conditions=conditions)
    kept = np.flatnonzero(~session.lost)
    async with VirtualRadio() as radio:
        await radio.add_sensor(
            "hipsense-51A1",
            ArraySource.from_session(session),
            info=session.info,
            pacing="fast",
        )
        async with SensorLink("hipsense-51A1", "right_thigh", backend=radio.bleak_backend) as link:
            got = await Collector(link).until(lambda c: c.samples == kept.size)
            await got.close()
            status = link.status()
    assert session.lost.any()
    np.testing.assert_array_equal(got.indices(), kept)
    np.testing.assert_array_equal(got.cat("acc_mps2"), session.acc_mps2[kept])
    np.testing.assert_array_equal(got.cat("gyr_radps"), session.gyr_radps[kept])
    lost_inside = int(session.lost[: kept[-1]].sum())
    assert status.lost_samples == lost_inside
    assert sum(b.lost_before for b in got.batches) == lost_inside
