"""Deep RL for finite games through the algorithm contract: deep mirror descent and average-network FP.

Both follow OpenSpiel's deep MFG algorithms (``munchausen_deep_mirror_descent.py``,
``average_network_fictitious_play.py``): networks over ``(t, s)`` features
(:class:`~mfglearn.deep.discrete.StateFeatures`), trained on simulated episodes against the
mean field of the current policy. As in OpenSpiel, that mean field is computed exactly from
the tabulated network policy (:func:`~mfglearn.deep.discrete.tabulate`), which also gives the
exact exploitability recorded at every iteration: the deep solvers are checked against the
same primitives as the exact ones, on the same games. With ``population="simulated"`` the mean
field is instead the empirical measure of ``n_population`` agents playing the network
(:mod:`mfglearn.deep.sampled`): nothing of size ``H * S * A`` is ever built, so the solvers run on
games beyond exact tabular reach (``benchmarks/study_evacuation.py``); the history then records
the population's value, and :func:`mfglearn.approximate_exploitability` estimates the gap.

* :class:`DeepMirrorDescent`: online mirror descent with the cumulative logits in one network,
  regressed each iteration on ``y_k + learning_rate * G`` (Monte-Carlo returns of the current
  policy's episodes), the deep counterpart of the exact ``mirror_descent`` solver.
* :class:`DeepAverageNetworkFP` (Heinrich et al.'s neural fictitious play for MFGs): a DQN best
  response against the average policy's mean field, whose greedy episodes feed a buffer of
  ``memory_per_iteration`` state-action samples per iteration; an average-policy network is fitted
  to all of them by cross-entropy. The initial (uniform) policy's samples come first, so after
  ``k`` iterations the initial policy and every best response weigh ``1 / (k + 1)``, as in the
  exact ``fictitious_play`` solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from mfglearn._common.checks import check_choice, check_int, check_layers, check_positive, check_unit_interval
from mfglearn._common.sampling import categorical
from mfglearn.algorithm import Algorithm
from mfglearn.core.flow import mean_field_flow
from mfglearn.core.metrics import evaluate
from mfglearn.core.value import evaluate_and_best_respond, freeze, policy_return
from mfglearn.deep.discrete import (
    ActionNetwork,
    NetworkPolicy,
    StateFeatures,
    dqn_best_response,
    flat_steps,
    greedy_of,
    masked,
    ppo_best_response,
    ppo_update,
    rollout,
    tabulate,
    to_game_policy,
)
from mfglearn.deep.sampled import SampledPopulation, check_simulable, simulate_states
from mfglearn.deep.train import seeded
from mfglearn.errors import ValidationError
from mfglearn.result import Result

POPULATIONS = ("exact", "simulated")


class DeepFiniteSolver(Algorithm):
    """Shared loop of the deep solvers on finite-horizon games: networks, generator, exact evaluation.

    Args:
        game: a finite-horizon, single-population :class:`~mfglearn.model.finite.FiniteMFG`.
        hidden: hidden layer sizes of the networks.
        batch_size, optimizer_lr: minibatch and Adam step of the networks' training.
        onehot_max: one-hot state features up to that many states (see ``StateFeatures``).
        device: torch device of the networks and agents (``"cuda"`` on a GPU machine).
        seed: the one source of randomness.
        population: the mean field the agents face: ``"exact"`` (the tabulated network's exact flow; the
            history records the exact exploitability) or ``"simulated"`` (the empirical measure of
            ``n_population`` agents playing the network, for games too large to tabulate; the history
            records ``population_value``, the mean return of those agents before each iteration's update).
        n_population: agents of the simulated population.
    """

    game_kinds: ClassVar[frozenset[str]] = frozenset({"finite_horizon"})
    default_iterations: ClassVar[int] = 20

    def __init__(
        self,
        game,
        hidden=(128, 128),
        onehot_max: int = 4096,
        device: str | None = None,
        seed: int = 0,
        batch_size: int = 512,
        optimizer_lr: float = 1e-3,
        population: str = "exact",
        n_population: int = 10_000,
    ):
        if getattr(game, "kind", None) != "finite_horizon" or game.n_populations != 1:
            raise ValidationError(f"{self.name} solves single-population finite-horizon games; got {game!r}")
        self.device = torch.device(device) if device is not None else game.device
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValidationError("device='cuda' but torch sees no GPU; use device='cpu'")
        game = game.with_device(self.device) if self.device != game.device else game
        super().__init__(game)
        self.hidden = check_layers("hidden", hidden)
        self.onehot_max = check_int("onehot_max", onehot_max, minimum=0)
        self.seed = check_int("seed", seed, minimum=0)
        self.batch_size = check_int("batch_size", batch_size)
        self.optimizer_lr = check_positive("optimizer_lr", optimizer_lr)
        self.population = check_choice("population", population, POPULATIONS)
        self.n_population = check_int("n_population", n_population)
        if self.simulated:
            check_simulable(game)
        self._population_value = float("nan")
        self.features = StateFeatures(game, self.onehot_max)
        self.gen = torch.Generator(device=self.device).manual_seed(self.seed)
        self.mu0 = game.mu0.to(self.device)
        self._policy: torch.Tensor | None = None  # tabulated, in the game's dtype; None: recompute
        self._ev = None

    def _network(self, offset: int, zero_output: bool = False, outputs: int | None = None) -> ActionNetwork:
        """A new network seeded by ``seed + offset`` with ``outputs`` outputs (default: one per action);
        ``zero_output``: all outputs 0 (the uniform policy)."""
        with seeded(self.seed + offset, self.device):
            net = ActionNetwork(self.features.dim, outputs or self.game.A, self.hidden).to(self.device)
        if zero_output:
            net.zero_output_()
        return net

    @property
    def simulated(self) -> bool:
        return self.population == "simulated"

    @property
    def tracks_exploitability(self) -> bool:
        return not self.simulated

    def _common_hyperparameters(self) -> dict:
        d = dict(batch_size=self.batch_size, optimizer_lr=self.optimizer_lr, hidden=self.hidden,
                 onehot_max=self.onehot_max, seed=self.seed, population=self.population)  # fmt: skip
        return {**d, "n_population": self.n_population} if self.simulated else d

    # ----------------------------------------------------------------- subclass API
    def policy_network(self) -> ActionNetwork:
        """The network whose softmax is the current policy (logits over actions)."""
        raise NotImplementedError

    def policy(self) -> NetworkPolicy:
        """The current policy as a network (no tabulation)."""
        return NetworkPolicy(self.policy_network(), self.features, self.game.legal)

    def network_policy(self) -> torch.Tensor:
        """The current policy tabulated on every ``(t, s)``: ``(H, S, A)`` float32."""
        return self.policy().tabulate()

    # ------------------------------------------------------------------------ shared
    def current_policy(self) -> torch.Tensor:
        """The current policy ``(H, S, A)`` in the game's dtype (the network tabulated)."""
        if self._policy is None:
            self._policy = to_game_policy(self.game, self.network_policy())
        return self._policy

    def evaluation(self):
        """Exact :class:`~mfglearn.core.evaluation.Evaluation` of the current policy (cached)."""
        if self._ev is None:
            self._ev = evaluate(self.game, self.current_policy(), check=False)
        return self._ev

    def _frozen(self, pi: torch.Tensor):
        return freeze(self.game, mean_field_flow(self.game, pi))

    def _simulated_population(self, policy: NetworkPolicy):
        """``n_population`` agents playing ``policy`` against their own empirical measure.

        Returns the :class:`~mfglearn.deep.sampled.SampledPopulation`, the agents' states ``(H+1, N)``,
        actions and rewards ``(H, N)`` (the terminal reward in the last step's); records their mean return.
        """
        states, actions = simulate_states(
            self.game, lambda t, s: policy.act(t, s, self.gen), self.n_population, self.gen
        )
        env = SampledPopulation(self.game, states)
        rewards = torch.stack([env.reward_of(t, states[t], actions[t]) for t in range(self.game.H)])
        rewards[-1] += env.terminal_of(states[-1])
        self._population_value = float(rewards.sum(0).mean())
        return env, states, actions, rewards

    def _environment(self):
        """The frozen mean field of the current policy: its exact ``FrozenMDP`` or a simulated population."""
        if self.simulated:
            return self._simulated_population(self.policy())[0]
        return self._frozen(self.current_policy())

    def _on_policy_episodes(self, n_agents: int):
        """``n_agents`` episodes of the current policy ``pi_k`` against its mean field, flattened.

        Returns the log-probabilities of the actions taken under ``pi_k``, the steps' times, states and
        actions ``(H N,)``, the returns from each step on ``(H N,)`` (Monte-Carlo samples of ``Q^{pi_k}``)
        and the steps' features. Simulated populations: the episodes are those of ``n_agents`` of its agents.
        """
        if self.simulated:
            policy = self.policy()
            _, st, ac, rw = self._simulated_population(policy)
            n = min(n_agents, self.n_population)
            st, ac, rw = st[:, :n], ac[:, :n], rw[:, :n]
            t0, s0, a0 = flat_steps(st, ac)
            with torch.no_grad():
                old_logp = policy.log_probs(t0, s0).gather(1, a0[:, None])[:, 0]
        else:
            pi_k = self.current_policy()
            pi32 = pi_k.to(torch.float32)
            mdp = self._frozen(pi_k)
            st, ac, rw = rollout(mdp, self.mu0, lambda t, s: categorical(pi32[t, s], self.gen), n_agents, self.gen)
            t0, s0, a0 = flat_steps(st, ac)
            old_logp = torch.log(pi32[t0, s0, a0].clamp_min(1e-30))
        returns = rw.flip(0).cumsum(0).flip(0).reshape(-1)
        return old_logp, t0, s0, a0, returns, self.features(t0, s0)

    def _changed(self) -> dict:
        self._policy, self._ev = None, None
        if self.simulated:
            return {"population_value": self._population_value}
        ev = self.evaluation()
        return {"exploitability": float(ev.exploitability), "value": float(ev.value)}

    def result(self, stopped: str | None = None) -> Result:
        if self.simulated:
            if math.isnan(self._population_value):  # no iteration yet: the starting policy's value, not a NaN
                self._simulated_population(self.policy())
            return DeepFiniteResult(
                policy=self.policy(),
                mean_field=None,
                value=self._population_value,
                history={k: list(v) for k, v in self.history.items()},
                solver=self.name,
                game=self.game.name,
                hyperparameters=self.hyperparameters,
                stopped=self.stopped if stopped is None else stopped,
            )
        ev = self.evaluation()
        return Result(
            policy=ev.policy,
            mean_field=ev.flow.mu,
            value=float(ev.value),
            history={k: list(v) for k, v in self.history.items()},
            solver=self.name,
            game=self.game.name,
            hyperparameters=self.hyperparameters,
            stopped=self.stopped if stopped is None else stopped,
        )

    def state_dict(self) -> dict:
        d = super().state_dict()
        d["generator"] = self.gen.get_state()
        d["networks"] = {
            k: {n: v.detach().cpu() for n, v in net.state_dict().items()} for k, net in self._nets().items()
        }
        if self.simulated:  # the result's value after a resume that runs no further iteration
            d["population_value"] = self._population_value
        return d

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self.gen.set_state(d["generator"].cpu())
        for k, net in self._nets().items():
            net.load_state_dict(d["networks"][k])
        self._policy, self._ev = None, None
        self._population_value = float(d.get("population_value", float("nan")))

    def _nets(self) -> dict[str, torch.nn.Module]:
        raise NotImplementedError


class DeepMirrorDescent(DeepFiniteSolver):
    """Deep online mirror descent on a finite-horizon game (see the module docstring).

    One network holds the cumulative logits ``y(t, s, a)``; iteration ``k`` simulates ``n_agents``
    episodes of ``pi_k = softmax(y_k)`` against its exact mean field and regresses the network on
    ``y_k(t, s, a) + learning_rate * G_t``, with ``G_t`` the episode's return from ``(t, s, a)`` (an
    unbiased sample of ``Q^{pi_k}``) and ``y_k`` a frozen copy of the network. In expectation this is
    the exact solver's update ``y_{k+1} = y_k + learning_rate * Q^{pi_k}`` (``mirror_descent``,
    equal to OpenSpiel's Munchausen mirror descent), so its curve is compared with that solver's
    at equal iterations. Monte-Carlo returns, not bootstrapped targets: a Q-network fitted to its
    own next-step values over a 30-step horizon needs ~30 target refreshes to propagate them and
    diverged in our runs where the returns' regression does not.

    Args:
        learning_rate: mirror descent's step (the exact solver's default 0.03).
        n_agents: episodes simulated per iteration (the regression's data).
        inner_steps: gradient steps of the regression per iteration.
        batch_size, optimizer_lr: the regression's minibatch and Adam step.
        hidden, onehot_max, device, seed: see :class:`DeepFiniteSolver`.
    """

    name = "deep_mirror_descent"
    description = "deep online mirror descent (cumulative-logit network over (t, s) features, Monte-Carlo Q)"
    iteration_unit = "one mirror-descent iteration: episodes against the policy's exact mean field, then a regression"

    def __init__(
        self,
        game,
        learning_rate: float = 0.03,
        n_agents: int = 1024,
        inner_steps: int = 300,
        batch_size: int = 1024,
        optimizer_lr: float = 1e-3,
        hidden=(128, 128),
        onehot_max: int = 4096,
        device: str | None = None,
        seed: int = 0,
        population: str = "exact",
        n_population: int = 10_000,
    ):
        super().__init__(game, hidden, onehot_max, device, seed, batch_size, optimizer_lr, population, n_population)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.n_agents = check_int("n_agents", n_agents)
        self.inner_steps = check_int("inner_steps", inner_steps)
        self.y = self._network(0, zero_output=True)  # y_0 = 0: the uniform policy, as the exact solver starts

    @property
    def hyperparameters(self) -> dict:
        return dict(
            learning_rate=self.learning_rate, n_agents=self.n_agents, inner_steps=self.inner_steps,
            **self._common_hyperparameters(),
        )  # fmt: skip

    def _nets(self):
        return {"y": self.y}

    def policy_network(self) -> ActionNetwork:
        return self.y

    def _step(self) -> dict:
        _, _, _, a0, returns, inputs = self._on_policy_episodes(self.n_agents)
        with torch.no_grad():
            y = self.y(inputs).gather(1, a0[:, None])[:, 0] + self.learning_rate * returns
        self.y.rescale(y)
        opt = torch.optim.Adam(self.y.parameters(), lr=self.optimizer_lr)
        n = y.shape[0]
        for _ in range(self.inner_steps):
            idx = torch.randint(n, (min(self.batch_size, n),), generator=self.gen, device=self.device)
            loss = torch.nn.functional.mse_loss(self.y(inputs[idx]).gather(1, a0[idx, None])[:, 0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if not bool(torch.isfinite(loss)):
            raise FloatingPointError(f"{self.name}: the regression's loss became {float(loss)}; lower optimizer_lr")
        return {**self._changed(), "loss": float(loss.detach())}


class DeepAverageNetworkFP(DeepFiniteSolver):
    """Fictitious play with a DQN best response and a supervised average-policy network (see the module docstring).

    Args:
        best_response: ``"dqn"`` (OpenSpiel's) or ``"ppo"``
            (:func:`~mfglearn.deep.discrete.ppo_best_response`: Monte-Carlo returns, no bootstrapping, for
            long horizons). Either network is kept and warm-started across iterations; its greedy policy
            is the iteration's best response.
        br_steps: DQN gradient steps (default 800) or PPO iterations (default 10) per best response.
        br_agents: DQN: epsilon-greedy episodes per replay refresh (every ``target_every`` steps); PPO: episodes
            per iteration.
        epsilon: DQN's exploration rate.
        memory_per_iteration: greedy best-response state-action samples added to the average's data
            per iteration.
        avg_steps: cross-entropy gradient steps on all samples per iteration.
        batch_size, optimizer_lr, target_every: minibatch, Adam step, target refresh period.
        hidden, onehot_max, device, seed: see :class:`DeepFiniteSolver`.
    """

    name = "deep_average_network_fp"
    description = "deep average-network fictitious play (DQN best response, supervised average policy; OpenSpiel's)"
    iteration_unit = "one fictitious-play iteration: a DQN best response, then the average network refitted"

    def __init__(
        self,
        game,
        best_response: str = "dqn",
        br_steps: int | None = None,
        br_agents: int = 256,
        epsilon: float = 0.2,
        memory_per_iteration: int = 4096,
        avg_steps: int = 300,
        target_every: int = 10,
        batch_size: int = 512,
        optimizer_lr: float = 1e-3,
        hidden=(128, 128),
        onehot_max: int = 4096,
        device: str | None = None,
        seed: int = 0,
        population: str = "exact",
        n_population: int = 10_000,
    ):
        super().__init__(game, hidden, onehot_max, device, seed, batch_size, optimizer_lr, population, n_population)
        self.best_response = check_choice("best_response", best_response, ("dqn", "ppo"))
        default_steps = 800 if self.best_response == "dqn" else 10
        self.br_steps = check_int("br_steps", default_steps if br_steps is None else br_steps)
        self.br_agents = check_int("br_agents", br_agents)
        self.epsilon = check_unit_interval("epsilon", epsilon, closed_low=True)
        self.memory_per_iteration = check_int("memory_per_iteration", memory_per_iteration)
        self.avg_steps = check_int("avg_steps", avg_steps)
        self.target_every = check_int("target_every", target_every)
        self.q = self._network(0, zero_output=self.best_response == "ppo")  # Q-values, or PPO's logits
        self.avg = self._network(1, zero_output=True)  # the first average is the uniform policy
        self.br_value = self._network(2, outputs=1) if self.best_response == "ppo" else None
        self.memory = torch.zeros(0, 3, dtype=torch.long, device=self.device)  # (t, s, a) rows

    @property
    def hyperparameters(self) -> dict:
        return dict(
            best_response=self.best_response, br_steps=self.br_steps, br_agents=self.br_agents, epsilon=self.epsilon,
            memory_per_iteration=self.memory_per_iteration, avg_steps=self.avg_steps, target_every=self.target_every,
            **self._common_hyperparameters(),
        )  # fmt: skip

    def _nets(self):
        nets = {"q": self.q, "avg": self.avg}
        return nets if self.br_value is None else {**nets, "br_value": self.br_value}

    def policy_network(self) -> ActionNetwork:
        return self.avg

    def _samples(self, mdp, act) -> torch.Tensor:
        """``memory_per_iteration`` ``(t, s, a)`` rows of episodes of ``act`` against ``mdp``."""
        H = self.game.H
        n_ep = max(1, math.ceil(self.memory_per_iteration / H))
        st, ac, _ = rollout(mdp, self.mu0, act, n_ep, self.gen)
        rows = torch.stack(flat_steps(st, ac), -1)
        return rows[torch.randperm(rows.shape[0], generator=self.gen, device=self.device)[: self.memory_per_iteration]]

    def _step(self) -> dict:
        game = self.game
        if self.simulated:
            mdp = self._environment()
            average = self.policy()
            act0 = lambda t, s: average.act(t, s, self.gen)  # noqa: E731
        else:
            pi = self.current_policy()
            mdp = self._frozen(pi)
            pi32 = pi.to(torch.float32)
            act0 = lambda t, s: categorical(pi32[t, s], self.gen)  # noqa: E731
        if self.iteration == 0:  # the initial policy is the average's first member, as in exact fictitious play
            self.memory = self._samples(mdp, act0)
        if self.best_response == "ppo":
            ppo_best_response(
                mdp, self.mu0, self.features, self.q, self.br_value, self.br_steps, self.gen,
                n_agents=self.br_agents, batch_size=self.batch_size, optimizer_lr=self.optimizer_lr,
            )  # fmt: skip
        else:
            dqn_best_response(
                mdp, self.mu0, self.features, self.q, self.br_steps, self.gen, n_agents=self.br_agents,
                batch_size=self.batch_size, optimizer_lr=self.optimizer_lr, epsilon=self.epsilon,
                target_every=self.target_every,
            )  # fmt: skip
        if self.simulated:
            greedy = NetworkPolicy(self.q, self.features, game.legal)
            measured = {}
            act = lambda t, s: greedy.probs(t, s).argmax(-1)  # noqa: E731  (the softmax keeps the argmax)
        else:
            greedy_q = masked(tabulate(self.q, self.features), game.legal)
            br = greedy_of(greedy_q, None).to(torch.float32)
            # the best response's own error: its exact value against the frozen mean field vs the optimum
            measured = {"br_error": evaluate_frozen(game, mdp, br)}
            act = lambda t, s: greedy_q[t, s].argmax(-1)  # noqa: E731
        self.memory = torch.cat([self.memory, self._samples(mdp, act)])
        inputs = self.features(self.memory[:, 0], self.memory[:, 1])
        opt = torch.optim.Adam(self.avg.parameters(), lr=self.optimizer_lr)
        n = self.memory.shape[0]
        for _ in range(self.avg_steps):
            idx = torch.randint(n, (min(self.batch_size, n),), generator=self.gen, device=self.device)
            logits = masked(self.avg(inputs[idx]), game.legal, self.memory[idx, 1])
            loss = torch.nn.functional.cross_entropy(logits, self.memory[idx, 2])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return {**self._changed(), **measured, "loss": float(loss.detach())}

    def state_dict(self) -> dict:
        d = super().state_dict()
        d["memory"] = self.memory.cpu()
        return d

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self.memory = d["memory"].to(self.device)


class MFPPO(DeepFiniteSolver):
    """Mean-field PPO (Algumaei et al. 2023): PPO steps of a policy network against its own mean field.

    Iteration ``k`` computes the exact mean field of the current policy ``pi_k`` (the network
    tabulated), simulates ``n_agents`` episodes of ``pi_k`` against it, and takes ``epochs`` passes of
    PPO's clipped surrogate on advantages ``G_t - V(t, s_t)`` (Monte-Carlo returns, a value network
    fitted alongside). The clip keeps ``pi_{k+1}`` close to ``pi_k``, so the policy and its mean
    field move together, as in mirror descent.

    Args:
        n_agents: episodes simulated per iteration.
        epochs: passes of minibatch updates over them.
        clip: PPO's ratio clip.
        entropy: weight of the policy's entropy bonus.
        batch_size, optimizer_lr: minibatch and Adam step (policy and value network).
        hidden, onehot_max, device, seed: see :class:`DeepFiniteSolver`.
    """

    name = "mf_ppo"
    description = "mean-field PPO: clipped policy-gradient steps of a network policy against its own mean field"
    iteration_unit = "one PPO update: episodes against the policy's exact mean field, then clipped surrogate epochs"

    def __init__(
        self,
        game,
        n_agents: int = 1024,
        epochs: int = 4,
        clip: float = 0.2,
        entropy: float = 0.0,
        batch_size: int = 1024,
        optimizer_lr: float = 1e-3,
        hidden=(128, 128),
        onehot_max: int = 4096,
        device: str | None = None,
        seed: int = 0,
        population: str = "exact",
        n_population: int = 10_000,
    ):
        super().__init__(game, hidden, onehot_max, device, seed, batch_size, optimizer_lr, population, n_population)
        self.n_agents = check_int("n_agents", n_agents)
        self.epochs = check_int("epochs", epochs)
        self.clip = check_unit_interval("clip", clip)
        self.entropy = check_positive("entropy", entropy, allow_zero=True)
        self.logits = self._network(0, zero_output=True)  # the uniform policy first
        self.value = self._network(1, outputs=1)  # V(t, s), the advantages' baseline

    @property
    def hyperparameters(self) -> dict:
        return dict(
            n_agents=self.n_agents, epochs=self.epochs, clip=self.clip, entropy=self.entropy,
            **self._common_hyperparameters(),
        )  # fmt: skip

    def _nets(self):
        return {"logits": self.logits, "value": self.value}

    def policy_network(self) -> ActionNetwork:
        return self.logits

    def _step(self) -> dict:
        old_logp, t0, s0, a0, returns, inputs = self._on_policy_episodes(self.n_agents)
        loss = ppo_update(
            self.logits, self.value, inputs, s0, a0, old_logp, returns, self.game.legal, self.gen,
            epochs=self.epochs, clip=self.clip, entropy=self.entropy, batch_size=self.batch_size,
            optimizer_lr=self.optimizer_lr,
        )  # fmt: skip
        if not math.isfinite(loss):
            raise FloatingPointError(f"{self.name}: the PPO loss became {loss}; lower optimizer_lr")
        return {**self._changed(), "loss": loss}


@dataclass(repr=False)
class DeepFiniteResult(Result):
    """Outcome of a deep finite solver run on a simulated population (a :class:`~mfglearn.result.Result`).

    ``policy`` is a :class:`~mfglearn.deep.discrete.NetworkPolicy` (``probs(t, s)``, ``act(t, s, gen)``,
    ``tabulate()`` where it fits); ``mean_field`` is ``None`` (the population is simulated, not stored);
    ``value`` and ``history["population_value"]`` are the simulated agents' mean returns. No exact
    exploitability: estimate it with :func:`mfglearn.approximate_exploitability`. ``Result.load(path, game)``
    needs the game, to rebuild the network's features.
    """

    kind: ClassVar[str] = "deep_finite"

    def _policy_state(self):
        net = self.policy.net
        return {
            "config": net.config,
            "onehot_max": self.policy.features.onehot_max,
            "weights": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        }

    def _mean_field_state(self):
        return None

    @classmethod
    def _from_state(cls, d: dict, game) -> DeepFiniteResult:
        if game is None:
            raise ValidationError(
                "a deep finite result holds a network over the game's features: load it with Result.load(path, game)"
            )
        p = d["policy"]
        net = ActionNetwork(**p["config"]).to(game.device)
        net.load_state_dict(p["weights"])
        policy = NetworkPolicy(net, StateFeatures(game, int(p["onehot_max"])), game.legal)
        return super()._from_state({**d, "policy": policy}, game)


def evaluate_frozen(game, mdp, pi: torch.Tensor) -> float:
    """``V*(mu) - J_mu(pi)`` of a policy ``pi`` ``(H, S, A)`` against the frozen ``mdp`` (exact, backward induction)."""
    V, _, Vb, _, _ = evaluate_and_best_respond(mdp, to_game_policy(game, pi), lazy_best_policy=True)
    return float(policy_return(mdp, Vb) - policy_return(mdp, V))


__all__ = [
    "MFPPO",
    "DeepAverageNetworkFP",
    "DeepFiniteResult",
    "DeepFiniteSolver",
    "DeepMirrorDescent",
    "evaluate_frozen",
]
