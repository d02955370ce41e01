"""Multi-population games built on the joint state space: invariants, the one-population case, bad input."""

import pytest
import torch

import mfglearn
from mfglearn.core.metrics import evaluate
from mfglearn.core.populations import exploitability_per_population, population_report
from mfglearn.errors import ShapeError, ValidationError
from mfglearn.model.populations import Population, multi_population_game
from mfglearn.solvers import FictitiousPlay, MirrorDescent


def _as_one_population(g):
    """``g`` rebuilt through the multi-population path (one population of mass 1)."""
    if callable(g.reward):
        reward = lambda t, mf: g.reward(t, mf[0])  # noqa: E731
    else:
        reward = g.reward
    tr = g.transition
    if callable(tr) and not hasattr(tr, "push"):
        tr = lambda t, mf: g.transition(t, mf[0])  # noqa: E731
    pop = Population(g.S, g.A, g.mu0, reward, tr, legal=g.legal, terminal_reward=g.terminal_reward)
    return multi_population_game([pop], horizon=g.horizon, gamma=g.gamma, batched_reward=g.batched_reward)


@pytest.mark.parametrize("gid", ["four_rooms", "openspiel/crowd_modelling", "beach_bar"])
def test_one_population_is_bit_identical(gid):
    g = mfglearn.make(gid, horizon=8)
    m = _as_one_population(g)
    assert m.n_populations == 1 and m.S == g.S and m.A == g.A
    for algo in (lambda x: FictitiousPlay(x), lambda x: MirrorDescent(x, learning_rate=0.1)):
        a, b = algo(g).solve(4), algo(m).solve(4)
        assert a.history["exploitability"] == b.history["exploitability"]
        assert torch.equal(a.policy, b.policy)


def test_one_population_discounted_is_bit_identical():
    g = mfglearn.make("benchmfg/sis_epidemic")
    m = _as_one_population(g)
    pi = g.uniform_policy()
    assert mfglearn.exploitability(g, pi) == mfglearn.exploitability(m, pi)


def _two_sizes(reward_b=None, **kw):
    """Population a: 3 states, 2 actions; population b: 2 states, 3 actions (paid to sit where a is not)."""
    a = Population(
        3,
        2,
        [1.0, 0.0, 0.0],
        lambda t, mf: (
            -mf["b"][..., [0, 1, 1]].unsqueeze(-1).expand(*mf["b"].shape[:-1], 3, 2) * 0 - mf[0].unsqueeze(-1)
        ),
        torch.tensor([[0, 1], [1, 2], [2, 0]]),
        name="a",
        **kw,
    )
    b = Population(
        2,
        3,
        [0.5, 0.5],
        reward_b or (lambda t, mf: -mf["a"][..., :2]),
        torch.tensor([[0, 1, 0], [1, 0, 1]]),
        name="b",
        mass=2.0,
    )
    return multi_population_game([a, b], horizon=4, name="two_sizes")


def test_different_sizes_layout_and_conventions():
    g = _two_sizes()
    assert (g.S, g.A, g.n_populations) == (5, 3, 2)
    assert g.legal.tolist() == [[True, True, False]] * 3 + [[True, True, True]] * 2
    # the joint mean field is the mass-weighted concatenation
    assert torch.allclose(g.mu0, torch.tensor([1 / 3, 0, 0, 1 / 3, 1 / 3], dtype=g.dtype))
    pi = g.uniform_policy()
    rep = population_report(g, evaluate(g, pi))
    # total = sum_p m_p E_p; E_p >= 0
    assert float((rep.masses * rep.exploitability).sum()) == pytest.approx(mfglearn.exploitability(g, pi), abs=1e-12)
    assert (rep.exploitability >= -1e-12).all()
    assert torch.allclose(exploitability_per_population(g, pi), rep.exploitability)
    res = mfglearn.solve(g, "fictitious_play", iterations=30)
    assert res.exploitability < mfglearn.exploitability(g, pi)
    assert not (res.policy[:, :3, 2] > 0).any()  # population a's missing action is never used


def test_brute_force_per_population_best_response():
    """E_p by enumerating every deterministic Markov policy of population b against the fixed joint flow."""
    import itertools

    from mfglearn.core.flow import mean_field_flow
    from mfglearn.core.value import evaluate_policy, freeze

    g = _two_sizes()
    pi = g.uniform_policy()
    mdp = freeze(g, mean_field_flow(g, pi))
    lay = g.populations
    V_pi = evaluate_policy(mdp, pi)[0][0]
    mu0_b = g.mu0[lay.block("b")] / lay.weights[1]
    base = float((mu0_b * V_pi[lay.block("b")]).sum())
    best = -float("inf")
    for choice in itertools.product(range(3), repeat=g.H * 2):
        dev = pi.clone()
        for i, a in enumerate(choice):
            t, s = divmod(i, 2)
            dev[t, 3 + s] = 0.0
            dev[t, 3 + s, a] = 1.0
        v = evaluate_policy(mdp, dev)[0][0]
        best = max(best, float((mu0_b * v[lay.block("b")]).sum()))
    assert exploitability_per_population(g, pi)[1] == pytest.approx(best - base, abs=1e-12)


def test_bad_input_names_the_entry():
    with pytest.raises(ValidationError, match="population 'z' does not exist.*read by the reward of population 'b'"):
        _two_sizes(reward_b=lambda t, mf: mf["z"])
    with pytest.raises(ValidationError, match="population 5 does not exist; this game has 2"):
        _two_sizes(reward_b=lambda t, mf: mf[5])
    with pytest.raises(ShapeError, match="population 'b': mu0 must have shape \\(2,\\)"):
        multi_population_game(
            [
                Population(2, 2, [0.5, 0.5], torch.zeros(2, 2), torch.tensor([[0, 1], [1, 0]]), name="a"),
                Population(2, 2, [1.0, 0.0, 0.0], torch.zeros(2, 2), torch.tensor([[0, 1], [1, 0]]), name="b"),
            ],
            horizon=2,
        )
    with pytest.raises(ShapeError, match="reward of population 'b' must have shape"):
        _two_sizes(reward_b=lambda t, mf: torch.zeros(7))
    with pytest.raises(ShapeError, match="transition of population 'a' has 3 states"):
        multi_population_game(
            [Population(2, 2, [0.5, 0.5], torch.zeros(2, 2), torch.tensor([[0, 1], [1, 2], [2, 0]]), name="a")],
            horizon=2,
        )
    with pytest.raises(ValidationError, match="mass must be positive"):
        multi_population_game(
            [Population(1, 1, [1.0], torch.zeros(1, 1), torch.zeros(1, 1, dtype=torch.long), mass=0)], horizon=1
        )


def test_predator_prey_native_parameters():
    g = mfglearn.make("predator_prey", size=4, geometry="torus", reward_matrix=[[0, 1], [-1, 0]], init=[(0, 0), (3, 3)])
    assert g.n_populations == 2 and g.S == 32
    res = mfglearn.solve(g, "mirror_descent", iterations=5, learning_rate=0.5)
    assert res.exploitability < mfglearn.exploitability(g, g.uniform_policy())
    with pytest.raises(ValidationError, match="reward_matrix must be square"):
        mfglearn.make("predator_prey", reward_matrix=[[0, 1]])
    with pytest.raises(ValidationError, match="start cells; the game has 3"):
        mfglearn.make("predator_prey", init=[(0, 0), (1, 1)])


def _discounted_two_populations():
    """A predator chasing a prey on a 4-cell ring; moves succeed with probability 0.9."""
    ring = torch.tensor([[0, 1, 3], [1, 2, 0], [2, 3, 1], [3, 0, 2]])  # stay, right, left
    index = torch.stack([ring, torch.arange(4).unsqueeze(1).expand(4, 3)], -1)
    prob = torch.tensor([0.9, 0.1], dtype=torch.float64).expand(4, 3, 2)

    def chase(target, sign):
        return lambda t, mf: sign * mf[target]

    pops = [
        Population(4, 3, [1.0, 0, 0, 0], chase("prey", 1.0), (index, prob), name="predator"),
        Population(4, 3, [0, 0, 1.0, 0], chase("predator", -1.0), (index, prob), name="prey"),
    ]
    return multi_population_game(pops, gamma=0.9, name="ring_chase")


@pytest.mark.parametrize(
    "solver, hp",
    [
        ("mf_trpo", {}),
        ("prior_descent", {}),
        ("boltzmann_policy_iteration", {}),
        ("fictitious_play", {}),
        ("mirror_descent", {"learning_rate": 0.1}),
        ("gmf_q", {"seed": 0}),
        ("mf_trpo_sampled", {"seed": 0}),
    ],
)
def test_discounted_multi_population_solvers(solver, hp):
    g = _discounted_two_populations()
    assert g.kind == "discounted" and g.n_populations == 2
    res = mfglearn.solve(g, solver, iterations=3, **hp)
    e = mfglearn.exploitability(g, res.policy)
    assert e == pytest.approx(res.exploitability, rel=1e-6, abs=1e-9) or solver in ("gmf_q", "mf_trpo_sampled")
    assert torch.isfinite(torch.as_tensor(e)) and e >= -1e-9
    per = exploitability_per_population(g, res.policy)
    assert float((per * torch.tensor(g.populations.masses, dtype=per.dtype)).sum()) == pytest.approx(e, abs=1e-9)
