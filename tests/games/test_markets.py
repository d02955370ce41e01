"""Ad auction and equilibrium-price games: closed forms against brute force and simulation; learners on them."""

import itertools

import pytest
import torch

import mfglearn
from mfglearn.core.stationary import freeze_stationary
from mfglearn.errors import ValidationError
from mfglearn.games.markets import auction_round, market_price, win_payment_matrix
from mfglearn.learning.independent import independent_q_learning, play_policy
from mfglearn.learning.simulator import Simulator


def brute_force_win_payment(bids: torch.Tensor, n_bidders: int) -> torch.Tensor:
    """Enumerate every opponent bid profile: probability of winning with bid a and paying y."""
    A = bids.shape[0]
    W = torch.zeros(A, A, dtype=torch.float64)
    for profile in itertools.product(range(A), repeat=n_bidders - 1):
        p = float(torch.prod(bids[list(profile)]))
        top = max(profile)
        tied = sum(b == top for b in profile)
        for a in range(1, A):
            if top < a:
                W[a, top] += p
            elif top == a:
                W[a, a] += p / (tied + 1)
    return W


@pytest.mark.parametrize("n_bidders", [2, 3, 4])
def test_win_payment_matrix_matches_enumeration(n_bidders):
    bids = torch.tensor([0.1, 0.3, 0.25, 0.35], dtype=torch.float64)
    torch.testing.assert_close(win_payment_matrix(bids, n_bidders), brute_force_win_payment(bids, n_bidders))
    # degenerate population: everyone bids 2; bidding 3 always wins and pays 2, bidding 2 wins 1/n
    point = torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    W = win_payment_matrix(point, n_bidders)
    assert float(W[3, 2]) == pytest.approx(1.0)
    assert float(W[2, 2]) == pytest.approx(1.0 / n_bidders)
    assert float(W[1].sum()) == 0.0


def _monte_carlo_check(game, L, n=400_000):
    """The game's sampler agrees with its expected reward and kernel (4 standard errors)."""
    mdp = freeze_stationary(game, L.sum(-1), L / L.sum(-1, keepdim=True))
    sim = Simulator(game, seed=1)
    P = mdp.kernel.dense()
    for s, a in [(0, 1), (2, 2), (game.S - 1, game.A - 1), (1, 0)]:
        if game.legal is not None and not bool(game.legal[s, a]):
            continue
        nxt, r = sim.sample(mdp, torch.full((n,), s), torch.full((n,), a))
        se = float(r.std()) / n**0.5 + 1e-12
        assert abs(float(r.mean()) - float(mdp.reward[s, a])) < 4 * se, (s, a)
        freq = torch.bincount(nxt, minlength=game.S).double() / n
        assert float((freq - P[s, a]).abs().max()) < 4 * (0.25 / n) ** 0.5 + 1e-12, (s, a)


def test_ad_auction_sampler_matches_expected_model():
    game = mfglearn.make("ad_auction")
    L = torch.rand(game.S, game.A, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    _monte_carlo_check(game, L / L.sum())


def test_equilibrium_price_sampler_matches_expected_model():
    game = mfglearn.make("equilibrium_price")
    L = torch.rand(game.S, game.A, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * game.legal
    _monte_carlo_check(game, L / L.sum())


def test_nplayer_auction_rules():
    game = mfglearn.make("ad_auction", n_bidders=4)
    gen = torch.Generator().manual_seed(0)
    N = 4000
    budgets = torch.full((N,), 6)
    bids = torch.randint(0, 5, (N,), generator=gen)
    nxt, r = auction_round(budgets, bids, game, gen)
    spent = budgets - nxt
    # refills hide some payments; the others pay at most their bid
    assert bool((spent <= bids).all())
    assert bool((r[bids == 0] == 0).all())
    # win rate of bid a approaches the mean-field formula against the empirical bid distribution
    win = torch.zeros(5, dtype=torch.float64)
    count = torch.zeros(5, dtype=torch.float64)
    game0 = mfglearn.make("ad_auction", n_bidders=4, refill_prob=0.0, value_spread=0.0)
    for _ in range(20):
        bids = torch.randint(0, 5, (N,), generator=gen)
        nxt, r = auction_round(budgets, bids, game0, gen)
        won = (r != 0) | (nxt != budgets)
        win += torch.bincount(bids, weights=won.double(), minlength=5)
        count += torch.bincount(bids, minlength=5).double()
    W = win_payment_matrix(torch.full((5,), 0.2, dtype=torch.float64), 4)
    torch.testing.assert_close(win / count, W.sum(1), atol=0.02, rtol=0)
    with pytest.raises(ValidationError, match="multiple of n_bidders"):
        auction_round(budgets[:7], bids[:7], game0, gen)


def test_exact_solvers_find_the_auction_equilibrium():
    game = mfglearn.make("ad_auction")
    r = mfglearn.solve(game, "mirror_descent", iterations=300, learning_rate=0.5)
    assert r.exploitability < 0.005  # measured 0.003
    # richer advertisers bid higher: the mean bid increases with the budget
    mean_bid = (r.policy * torch.arange(game.A, dtype=torch.float64)).sum(-1)
    assert float(mean_bid[-1]) > float(mean_bid[0])


def test_gmf_q_reaches_the_exact_softmax_fixed_point_on_the_auction():
    game = mfglearn.make("ad_auction")
    ref = mfglearn.solve(game, "fixed_point", iterations=200, temperature=0.5, damping=0.2)
    assert ref.history["mean_field_delta"][-1] < 1e-8
    r = mfglearn.solve(game, "gmf_q", iterations=25, inner_steps=300, temperature=0.5, n_agents=20_000)
    start = float((game.mu0.unsqueeze(-1) / game.A - ref.extra["L"]).abs().sum())
    distance = float((r.extra["L"] - ref.extra["L"]).abs().sum())
    assert distance < 0.2 and distance < 0.3 * start  # measured 0.13 (start 1.0): Q-learning noise
    assert r.exploitability == pytest.approx(ref.exploitability, abs=0.05)


def test_gmf_q_on_the_price_game():
    game = mfglearn.make("equilibrium_price")
    ref = mfglearn.solve(game, "fixed_point", iterations=300, temperature=0.5, damping=0.2)
    r = mfglearn.solve(game, "gmf_q", iterations=30, inner_steps=300, temperature=0.5, n_agents=20_000)
    distance = float((r.extra["L"] - ref.extra["L"]).abs().sum())
    assert distance < 0.2  # measured 0.10
    assert market_price(game, r.extra["L"]) == pytest.approx(market_price(game, ref.extra["L"]), abs=0.15)


def test_price_game_equilibrium_price_is_interior():
    game = mfglearn.make("equilibrium_price")
    r = mfglearn.solve(game, "mirror_descent", iterations=600, learning_rate=0.5)
    assert r.exploitability < 1e-3  # measured 2e-4 (6e-6 after 1000 iterations)
    price = market_price(game, r.mean_field.unsqueeze(-1) * r.policy)
    # all production sold would give 2 - 4 * 0.5 = 0; withholding at capacity keeps it positive
    assert 0.0 < price < 0.5
    assert float(r.policy[-1, 0]) > 0.5  # full inventories hold back


def test_independent_learners_and_policy_play():
    game = mfglearn.make("ad_auction")

    def step(s, a, gen):
        return auction_round(s, a, game, gen)

    il = independent_q_learning(game, 200, 3000, step_fn=step, seed=0)
    assert il.Q.shape == (200, game.S, game.A)
    torch.testing.assert_close(il.population_policy.sum(-1), torch.ones(game.S, dtype=torch.float64))
    uniform_expl = mfglearn.exploitability(game, game.uniform_policy())
    assert mfglearn.exploitability(game, il.population_policy) < 0.5 * uniform_expl
    # the sampler-based default step (empirical measure) runs too, on any game with a sampler
    rewards = play_policy(game, game.uniform_policy(), 100, 50)
    assert rewards.shape == (50,) and torch.isfinite(rewards).all()


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_bidders": 1}, "n_bidders must be an integer >= 2"),
        ({"refill_prob": 1.5}, "refill_prob"),
        ({"bid_max": 0}, "bid_max must be a positive integer"),
    ],
)
def test_auction_bad_parameters(kw, match):
    with pytest.raises(ValidationError, match=match):
        mfglearn.make("ad_auction", **kw)


def test_fixed_point_on_discounted_game_checkpoints_its_measure():
    game = mfglearn.make("ad_auction")
    a = mfglearn.get_solver("fixed_point")(game, temperature=0.5, damping=0.3)
    a.solve(5)
    b = mfglearn.get_solver("fixed_point")(game, temperature=0.5, damping=0.3)
    b.load_state_dict(a.state_dict())
    a.solve(3)
    b.solve(3)
    torch.testing.assert_close(a.population, b.population)


def test_wrong_mean_field_shape_is_named():
    from mfglearn.errors import ShapeError

    game = mfglearn.make("ad_auction")
    with pytest.raises(ShapeError, match=r"state-action measure L of shape \(7, 5\)"):
        game.kernel_at(0, torch.full((7,), 1 / 7, dtype=torch.float64))
