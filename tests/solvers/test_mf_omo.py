"""MF-OMO's objective: closed-form values at a policy's own flow, convergence, checkpoints."""

import pytest
import torch

import mfglearn
from mfglearn.core.flow import mean_field_flow
from mfglearn.errors import ValidationError
from mfglearn.solvers.mf_omo import MFOMO


@pytest.mark.parametrize("gid", ["mfglib/susceptible_infected", "mfglib/random_linear", "beach_bar"])
def test_objective_terms_at_a_policys_flow_are_zero_zero_exploitability(gid):
    """At L = flow of pi with the hat (y, z): the flow and Bellman residuals vanish and
    z . L = sum_t E_L[V* - Q*] = the exploitability of pi (performance difference lemma)."""
    game = mfglearn.make(gid)
    gen = torch.Generator().manual_seed(0)
    pi = torch.softmax(torch.randn(game.H, game.S, game.A, generator=gen, dtype=torch.float64), -1)
    solver = MFOMO(game)
    L = mean_field_flow(game, pi).sa if game.mean_field == "state_action" else None
    if L is None:
        flow = mean_field_flow(game, pi)
        L = flow.mu[:-1].unsqueeze(-1) * pi
    z, y = solver._hat(L)
    o1, o2, o3 = solver._terms(L, z, y)
    assert float(o1) < 1e-20 and float(o2) < 1e-20
    assert float(o3) == pytest.approx(mfglearn.exploitability(game, pi), rel=1e-9, abs=1e-12)


def test_mf_omo_reduces_exploitability_and_resumes(tmp_path):
    game = mfglearn.make("mfglib/susceptible_infected", T=10)
    full = MFOMO(game, optimizer_lr=0.01)
    full.solve(40)
    assert full.history["exploitability"][-1] < 0.5 * full.history["exploitability"][0]
    a = MFOMO(game, optimizer_lr=0.01)
    a.solve(20)
    ckpt = tmp_path / "omo.pt"
    a.save_checkpoint(ckpt)
    b = MFOMO(game, optimizer_lr=0.01)
    b.load_checkpoint(ckpt)
    b.solve(20)
    assert b.history["exploitability"] == pytest.approx(full.history["exploitability"], rel=1e-9)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"loss": "huber"}, "loss must be"),
        ({"optimizer": "Adamm"}, "optimizer must name a torch.optim class"),
        ({"rb_freq": 0}, "rb_freq must be a positive integer"),
    ],
)
def test_bad_input(kw, match):
    with pytest.raises(ValidationError, match=match):
        MFOMO(mfglearn.make("mfglib/left_right"), **kw)
