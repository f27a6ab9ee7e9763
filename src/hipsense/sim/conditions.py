"""Nuisances a simulated session may contain, each toggled separately."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Conditions:
    """What goes wrong in real life. ``clean()`` turns everything off, ``realistic()`` on.

    Magnitudes are the typical (sigma) or maximum values used when a nuisance is on.
    """

    gyro_noise: bool = False
    gyro_bias: bool = False  # constant bias plus slow random-walk drift
    acc_noise: bool = False
    acc_bias: bool = False
    soft_tissue: bool = False  # damped 10-16 Hz wobble of the sensor on the thigh
    sway: bool = False  # postural sway of the body during still periods and sets
    fidgets: bool = False  # weight shifts / fidgets of 4-7 degrees after each set
    mid_set_pause: bool = False  # a 2-3 s pause in the middle of sets of 4+ reps
    random_mounting: bool = False  # front/outer site, any turn about the skin normal
    foot_impacts: bool = False  # heel-strike shocks (1-3 g) in knee drives and marches
    lost_fraction: float = 0.0  # share of samples lost, in bursts of ``lost_burst`` samples
    lost_burst: int = 20
    acc_range_g: int = 16
    gyr_range_dps: int = 2000
    gyro_noise_dps_per_rthz: float = 0.015
    gyro_bias_sigma_dps: float = 1.5
    gyro_bias_max_dps: float = 4.0
    gyro_drift_dps_per_rts: float = 0.01
    acc_noise_ug_per_rthz: float = 200.0
    acc_bias_sigma_g: float = 0.04
    acc_bias_max_g: float = 0.1
    wobble_max_deg: float = 2.0
    sway_standing_deg: float = 0.4
    sway_supine_deg: float = 0.1

    @classmethod
    def clean(cls) -> Conditions:
        return cls()

    @classmethod
    def realistic(cls) -> Conditions:
        return cls(
            gyro_noise=True,
            gyro_bias=True,
            acc_noise=True,
            acc_bias=True,
            soft_tissue=True,
            sway=True,
            fidgets=True,
            mid_set_pause=True,
            random_mounting=True,
            foot_impacts=True,
            lost_fraction=0.02,
        )

    def with_(self, **changes: object) -> Conditions:
        """A copy with some fields changed: ``Conditions.realistic().with_(lost_fraction=0)``."""
        return replace(self, **changes)  # type: ignore[arg-type]
