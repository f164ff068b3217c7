"""The simulated world: presets, their sizes, and the dragonfly-like topology they imply."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["World", "PRESETS", "resolve_world", "Topology", "build_topology"]

#: Monday 00:00 UTC: the simulated site's clock is UTC, so sacct's local times are UTC too.
EPOCH = pd.Timestamp("2025-01-06T00:00:00", tz="UTC")
END_EARLY_S = 8 * 3600


@dataclass(frozen=True)
class World:
    """Sizes and rates of one simulated cluster.

    Attributes
    ----------
    nodes : int
        Compute hosts, a multiple of ``hosts_per_group`` (rounded up when given otherwise).
    days : int
        Simulated days, starting Monday ``2025-01-06T00:00:00`` UTC and ending at 16:00 UTC on the last day.
    sample_s : int
        LDMS sampling interval (seconds).
    hosts_per_router, routers_per_group : int
        Dragonfly shape: a group is ``hosts_per_router * routers_per_group`` hosts, two cabinets.
    cores_per_node, mem_per_node_gib : int
        Node hardware (sacct ReqCPUS, AllocCPUS and ReqMem follow from them).
    target_utilisation : float
        Node-hours demanded by user jobs over node-hours available; queues and waits emerge.
    control_every_h : float
        Each control application is submitted once per this many hours (cron-like, jittered).
    control_nodes : dict
        Fixed size (nodes) of each control application.
    """

    name: str
    nodes: int
    days: int
    sample_s: int
    hosts_per_router: int = 4
    routers_per_group: int = 4
    cores_per_node: int = 128
    mem_per_node_gib: int = 256
    target_utilisation: float = 0.85
    control_every_h: float = 2.0
    control_nodes: tuple = (("amg", 8), ("milc", 8), ("minivite", 4), ("umt", 8))
    max_user_nodes_fraction: float = 0.25
    backfill_depth: int = 100

    @property
    def hosts_per_group(self) -> int:
        return self.hosts_per_router * self.routers_per_group

    @property
    def groups(self) -> int:
        return self.nodes // self.hosts_per_group

    @property
    def duration_s(self) -> int:
        # The period ends at 16:00 on its last day, when the queue is busy, so queue.txt has jobs in it.
        return self.days * 86400 - END_EARLY_S


PRESETS: dict[str, World] = {
    "tiny": World("tiny", nodes=64, days=5, sample_s=300, control_every_h=1.0, target_utilisation=0.9,
                  control_nodes=(("amg", 8), ("milc", 8), ("minivite", 4), ("umt", 8))),
    "default": World("default", nodes=128, days=10, sample_s=600, control_every_h=2.0,
                     control_nodes=(("amg", 16), ("milc", 16), ("minivite", 8), ("umt", 16))),
    "large": World("large", nodes=4032, days=90, sample_s=600, routers_per_group=24, control_every_h=4.0,
                   control_nodes=(("amg", 64), ("milc", 64), ("minivite", 32), ("umt", 64))),
}


def resolve_world(preset: str = "default", *, nodes: int | None = None, days: int | None = None) -> World:
    """The preset's world, with ``nodes`` and ``days`` overridden when given.

    Examples
    --------
    >>> resolve_world("tiny", nodes=70).nodes  # rounded up to whole groups of 16 hosts
    80
    """
    if preset not in PRESETS:
        raise ParameterError("preset", f"one of {sorted(PRESETS)}", preset)
    world = PRESETS[preset]
    if days is not None:
        if not isinstance(days, int) or days < 1:
            raise ParameterError("days", "a positive whole number of days", days)
        world = replace(world, days=days)
    if nodes is not None:
        hpg = world.hosts_per_group
        if not isinstance(nodes, int) or nodes < 2 * hpg:
            raise ParameterError("nodes", f"a whole number of hosts >= {2 * hpg} (two dragonfly groups)", nodes)
        nodes = -(-nodes // hpg) * hpg
        biggest = max(n for _, n in world.control_nodes)
        # Control jobs keep their preset size unless the machine became too small for them.
        scale = min(1.0, nodes / (4 * biggest))
        ctrl = tuple((a, max(1, int(n * scale))) for a, n in world.control_nodes)
        world = replace(world, nodes=nodes, control_nodes=ctrl)
    if world.nodes % world.hosts_per_group:
        raise ParameterError("nodes", f"a multiple of the group size {world.hosts_per_group}", world.nodes)
    return world


@dataclass(frozen=True)
class Topology:
    """Host → router → group → cabinet, hosts numbered so that each group is contiguous."""

    hosts: np.ndarray  # host names, "nid00000" ...
    router: np.ndarray  # router index of each host
    group: np.ndarray  # dragonfly group index of each host
    cabinet: np.ndarray  # cabinet index of each host

    def frame(self) -> pd.DataFrame:
        """The ``topology.csv`` table: host, router, group, cabinet (names, as a site would list them)."""
        return pd.DataFrame({
            "host": self.hosts,
            "router": [f"r{r:04d}" for r in self.router],
            "group": [f"g{g:03d}" for g in self.group],
            "cabinet": [f"c{c // 2}-{c % 2}" for c in self.cabinet],
        })


def build_topology(world: World) -> Topology:
    """Contiguous dragonfly numbering: ``hosts_per_router`` hosts per router, two cabinets per group."""
    idx = np.arange(world.nodes)
    router = idx // world.hosts_per_router
    group = idx // world.hosts_per_group
    cabinet = group * 2 + (idx % world.hosts_per_group) // max(1, world.hosts_per_group // 2)
    hosts = np.array([f"nid{i:05d}" for i in idx])
    return Topology(hosts=hosts, router=router, group=group, cabinet=cabinet)
