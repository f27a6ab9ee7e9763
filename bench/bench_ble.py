"""BLE link benchmark on the virtual radio (real Bumble host stack, in process).

1. Sustained: N sensors x R Hz in real time through the real client path (SensorLink, bleak,
   Bumble): samples sent vs received, overflow, loss, and latency from the sensor's notify call
   to the decoded SampleBatch (p50/p99), plus the part spent in hipsense (queue + decode).
2. Throughput: one sensor, as fast as the link allows, at MTU 247 and 23.

Run: .venv/bin/python bench/bench_ble.py [--seconds 20] [--sensors 2] [--rate 400]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

import numpy as np

from hipsense.samples import SampleBatch
from hipsense.sources.ble import LinkStatus, SensorLink, merge_streams
from hipsense.virtual import RampSource, VirtualRadio, VirtualSensor


async def sustained(seconds: float, sensors: int, rate_hz: int, mtu: int) -> dict[str, float]:
    async with VirtualRadio(central_mtu=mtu) as radio:
        virtual: list[VirtualSensor] = []
        for i in range(sensors):
            sensor = await radio.add_sensor(f"hipsense-B{i:03X}", RampSource(), rate_hz=rate_hz)
            sensor.send_log = {}
            virtual.append(sensor)
        by_role = {f"sensor_{i}": s for i, s in enumerate(virtual)}
        async with contextlib.AsyncExitStack() as stack:
            links = [
                await stack.enter_async_context(
                    SensorLink(s.name, role, backend=radio.bleak_backend)
                )
                for role, s in by_role.items()
            ]
            received = dict.fromkeys(by_role, 0)
            stack_ms: list[float] = []
            hipsense_ms: list[float] = []
            last: dict[str, LinkStatus] = {}

            def on_batch(batch: SampleBatch) -> None:
                now = time.monotonic()
                received[batch.sensor_id] += len(batch)
                last_index = int(batch.meta["first_index"]) + len(batch) - 1  # type: ignore[call-overload]
                sent_at = by_role[batch.sensor_id].send_log.get(last_index)  # type: ignore[union-attr]
                if sent_at is not None:
                    stack_ms.append((now - sent_at) * 1e3)
                hipsense_ms.append((now - float(batch.meta["arrival_s"])) * 1e3)  # type: ignore[arg-type]

            async def consume() -> None:
                async for item in merge_streams(*links):
                    if isinstance(item, LinkStatus):
                        last[item.role] = item
                    else:
                        on_batch(item)

            task = asyncio.create_task(consume())
            await asyncio.sleep(seconds)
            for s in virtual:
                s.stop_streaming()
            await asyncio.sleep(0.5)  # let what is in flight arrive
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            statuses = [link.status() for link in links]
    sent = sum(s.samples_sent for s in virtual)
    return {
        "sent": sent,
        "received": sum(received.values()),
        "overflow": sum(s.overflow_count for s in statuses),
        "lost": sum(s.lost_samples for s in statuses),
        "stack_p50_ms": float(np.percentile(stack_ms, 50)),
        "stack_p99_ms": float(np.percentile(stack_ms, 99)),
        "hipsense_p50_ms": float(np.percentile(hipsense_ms, 50)),
        "hipsense_p99_ms": float(np.percentile(hipsense_ms, 99)),
    }


async def throughput(mtu: int, samples: int) -> tuple[float, float]:
    """(samples/s, notifications/s) through the full client path, as fast as it goes."""
    async with VirtualRadio(central_mtu=mtu) as radio:
        sensor = await radio.add_sensor("hipsense-F001", RampSource(samples), pacing="fast")
        async with SensorLink("hipsense-F001", backend=radio.bleak_backend) as link:
            got, start = 0, time.monotonic()
            async for item in link.stream():
                if isinstance(item, SampleBatch):
                    got += len(item)
                    if got >= samples:
                        break
            elapsed = time.monotonic() - start
    return samples / elapsed, sensor.packets_sent / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sensors", type=int, default=2)
    parser.add_argument("--rate", type=int, default=400)
    args = parser.parse_args()
    print(f"Sustained: {args.sensors} sensors x {args.rate} Hz, real time, {args.seconds:.0f} s")
    print(
        "| MTU | sent | received | dropped by hipsense (overflow) | lost on link |"
        " notify -> batch p50 / p99 ms | arrival -> batch (hipsense) p50 / p99 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for mtu in (247, 23):
        r = asyncio.run(sustained(args.seconds, args.sensors, args.rate, mtu))
        print(
            f"| {mtu} | {r['sent']:,.0f} | {r['received']:,.0f} | {r['overflow']:.0f} |"
            f" {r['lost']:.0f} | {r['stack_p50_ms']:.2f} / {r['stack_p99_ms']:.2f} |"
            f" {r['hipsense_p50_ms']:.2f} / {r['hipsense_p99_ms']:.2f} |"
        )
    print()
    print("Throughput, one sensor, as fast as the link allows (12,000 samples)")
    print("| MTU | samples/s | notifications/s |")
    print("|---:|---:|---:|")
    for mtu in (247, 23):
        rate, notifs = asyncio.run(throughput(mtu, 12_000))
        print(f"| {mtu} | {rate:,.0f} | {notifs:,.0f} |")


if __name__ == "__main__":
    main()
