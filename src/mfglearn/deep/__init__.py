"""Deep methods for continuous mean-field games (float32 by default, any torch device).

* :class:`~mfglearn.deep.mixture.TimeMixture` (DEDA-FP's default) and
  :class:`~mfglearn.deep.flows.TimeFlow`: time-conditioned density models of a mean-field flow
  ``mu_t(x)`` (a Gaussian mixture whose parameters depend on ``t`` only; zuko's neural spline flow or
  RealNVP), fitted by maximum likelihood, built by :func:`~mfglearn.deep.flows.time_density`;
* :class:`~mfglearn.deep.cloning.GaussianPolicy` and
  :func:`~mfglearn.deep.cloning.behavioural_cloning`: a time-conditioned Gaussian policy
  fitted to ``(t, x, a)`` samples by negative log-likelihood (DEDA-FP's average policy);
* :mod:`~mfglearn.deep.best_response`: SAC and PPO best responses over a batch of agents
  against a frozen mean-field flow;
* :mod:`~mfglearn.deep.fictitious_play`: DEDA-FP and the two baselines (``deep_fp_sampled``,
  ``deep_fp_average``), exploitability (fresh best response; exact on ``lq``), checkpoints;
  each an :class:`~mfglearn.algorithm.Algorithm` (:class:`~mfglearn.deep.fictitious_play.DEDAFP`, ...).
"""
