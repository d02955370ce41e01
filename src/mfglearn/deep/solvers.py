"""The deep fictitious-play methods as registered solvers (``mfglearn.solve``, ``mfglearn solve``).

Continuous games return a :class:`~mfglearn.deep.deda_fp.DeepFPResult`, not the tabular
``Result``: the policy is a network and the mean field a flow or a simulated population.
"""

from __future__ import annotations

from mfglearn.deep.deda_fp import DeepFPResult, deep_fictitious_play


class _DeepFP:
    """Shared constructor: typed hyperparameters of :func:`~mfglearn.deep.deda_fp.deep_fictitious_play`."""

    name = ""
    description = ""
    is_deep = True

    def __init__(
        self,
        game,
        n_agents: int = 1024,
        br_method: str = "ppo",
        br_iterations: int = 20,
        first_br_iterations: int | None = None,
        bc_steps: int = 500,
        flow_steps: int = 500,
        flow_kind: str = "nsf",
        memory_per_iteration: int = 4096,
        exploitability_every: int = 0,
        exact_every: int = 1,
        device: str = "cpu",
        seed: int = 0,
    ):
        self.game = game
        self.hp = dict(
            n_agents=n_agents, br_method=br_method, br_iterations=br_iterations,
            first_br_iterations=first_br_iterations, bc_steps=bc_steps, flow_steps=flow_steps, flow_kind=flow_kind,
            memory_per_iteration=memory_per_iteration, exploitability_every=exploitability_every,
            exact_every=exact_every, device=device, seed=seed,
        )  # fmt: skip

    def solve(self, iterations: int = 10, callback=None, checkpoint=None) -> DeepFPResult:
        """Run ``iterations`` fictitious-play iterations (resuming from ``checkpoint`` if it holds a run)."""
        return deep_fictitious_play(
            self.game, self.name, iterations, checkpoint=checkpoint, callback=callback, **self.hp
        )


class DEDAFP(_DeepFP):
    name = "deda_fp"
    description = "DEDA-FP: deep RL best response, behavioural-cloning average policy, normalizing-flow mean field"


class DeepFPSampled(_DeepFP):
    name = "deep_fp_sampled"
    description = "deep FP baseline (Algo1): mixture of all past best responses, population simulated (KDE)"


class DeepFPAverage(_DeepFP):
    name = "deep_fp_average"
    description = "deep FP baseline (Algo2): behavioural-cloning average policy, population simulated (KDE)"


DEEP_SOLVERS = {cls.name: cls for cls in (DEDAFP, DeepFPSampled, DeepFPAverage)}
