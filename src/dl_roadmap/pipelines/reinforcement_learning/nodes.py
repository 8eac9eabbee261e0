"""Nodes of reinforcement_learning: exact dynamic programming, tabular TD control and policy
gradients, each measured over seeds. Plain functions of plain values: call them from a
notebook as the pipeline does. The algorithms are in dl_roadmap.rl (dynamic_programming,
tabular, policy_gradients); these functions run them, score them and collect tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL.Image import Image

from dl_roadmap.core.animation import gif_from_frames
from dl_roadmap.core.loop import run_loop
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.rl.dynamic_programming import (horizon_value, mdp_from_env, optimal_actions, policy_iteration,
                                               value_iteration)
from dl_roadmap.rl.evaluate import evaluate_policy
from dl_roadmap.rl.policy_gradients import ActorCritic, PGTrainer, per_episode_gradients, sample_episodes
from dl_roadmap.rl.policy_model import PolicyModel
from dl_roadmap.rl.tabular import METHODS, TableEnv, TabularPolicy, greedy_policy, learn
from dl_roadmap.rl.video import record_episode

# --- 1. dynamic programming: the exact reference ------------------------------------------


def solve_dp(params: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Value iteration and policy iteration on each environment's own table P.

    Returns:
        One row per environment (sweeps, seconds, the largest value gap between the two,
        whether policy iteration's actions are optimal under value iteration's values, the
        optimal policy's expected return within the time limit, exactly and by Monte Carlo
        on the Gymnasium environment), and the solutions (values, policies) by name.
    """
    rows, solutions = [], {}
    gamma = float(params["gamma"])
    for name, spec in params["envs"].items():
        env_id, kwargs = spec["env_id"], spec.get("kwargs") or {}
        mdp = mdp_from_env(env_id, **kwargs)
        vi = value_iteration(mdp, gamma, tol=float(params["tol"]))
        pi = policy_iteration(mdp, gamma)
        optimal = optimal_actions(mdp, vi.V, gamma)
        horizon = TableEnv.from_env(env_id, **kwargs).time_limit or int(params["horizon_without_limit"])
        monte_carlo = evaluate_policy(env_id, lambda s, p=vi.policy: int(p[s]), int(params["evaluation_episodes"]),
                                      seed=int(params["evaluation_seed"]), env_kwargs=kwargs, max_steps=horizon)
        rows.append({
            "env": name, "env_id": env_id, "states": mdp.n_states, "actions": mdp.n_actions, "gamma": gamma,
            "vi_sweeps": vi.iterations, "vi_seconds": vi.seconds, "pi_improvements": pi.iterations,
            "pi_seconds": pi.seconds, "max_value_gap": float(np.abs(vi.V - pi.V).max()),
            "pi_actions_optimal": bool(optimal[np.arange(mdp.n_states), pi.policy].all()),
            "same_action_fraction": float((vi.policy == pi.policy).mean()),
            "start_value": float(vi.V @ mdp.start), "horizon": horizon,
            "optimal_return_exact": horizon_value(mdp, vi.policy, horizon),
            "optimal_return_monte_carlo": float(monte_carlo.mean()),
            "monte_carlo_episodes": len(monte_carlo),
        })
        solutions[name] = {"env_id": env_id, "kwargs": kwargs, "V": vi.V, "policy": vi.policy,
                           "Q": mdp.R + gamma * mdp.T @ vi.V, "optimal": optimal, "horizon": horizon,
                           "optimal_return": rows[-1]["optimal_return_exact"]}
    return pd.DataFrame(rows), solutions


# --- 2. tabular TD control ---------------------------------------------------------------


def _epsilon(spec: Any, episodes: int) -> float | tuple[float, float, int]:
    if isinstance(spec, dict):
        return float(spec["start"]), float(spec["end"]), int(spec["decay_fraction"] * episodes)
    return float(spec)


def td_frozenlake(params: dict[str, Any], solutions: dict[str, dict[str, Any]]
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Q-learning, SARSA and Expected SARSA on each FrozenLake map over the seeds; the greedy
    policy's exact success probability (within the time limit) every ``episodes/checkpoints``
    episodes, against the DP optimum.

    Returns:
        The learning curves (env, method, seed, episode, success), the final results (one row
        per env and method: mean and std over seeds, the DP optimum, and a Monte-Carlo check
        of seed 0 on the Gymnasium environment), and the final Q tables by "<env>/<method>/<seed>".
    """
    curves, results, tables = [], [], {}
    for name in params["envs"]:
        solution = solutions[name]
        env = TableEnv.from_env(solution["env_id"], **solution["kwargs"])
        mdp = mdp_from_env(solution["env_id"], **solution["kwargs"])
        episodes = int(params["episodes"][name])
        every = max(1, episodes // int(params["checkpoints"]))
        for method in params["methods"]:
            finals = []
            for seed in params["seeds"]:
                run = learn(env, method, seed, episodes, params["alpha"], params["gamma"],
                            _epsilon(params["epsilon"], episodes), checkpoint_every=every)
                success = horizon_value(mdp, run.checkpoints, env.time_limit)
                curves += [{"env": name, "method": method, "seed": seed, "episode": (i + 1) * every, "success": v}
                           for i, v in enumerate(success)]
                finals.append(horizon_value(mdp, greedy_policy(run.Q), env.time_limit))
                tables[f"{name}/{method}/{seed}"] = run.Q
            policy = greedy_policy(tables[f"{name}/{method}/{params['seeds'][0]}"])
            check = evaluate_policy(solution["env_id"], lambda s, p=policy: int(p[s]), int(params["evaluation_episodes"]),
                                    seed=int(params["evaluation_seed"]), env_kwargs=solution["kwargs"])
            results.append({"env": name, "method": method, "episodes": episodes, "seeds": len(finals),
                            "success_mean": float(np.mean(finals)), "success_std": float(np.std(finals)),
                            "success_min": float(np.min(finals)), "dp_optimum": solution["optimal_return"],
                            "fraction_of_optimum": float(np.mean(finals) / solution["optimal_return"]),
                            "seed0_exact": finals[0], "seed0_monte_carlo": float(check.mean()),
                            "monte_carlo_episodes": len(check)})
    return pd.DataFrame(curves), pd.DataFrame(results), tables


def td_cliff(params: dict[str, Any], solutions: dict[str, dict[str, Any]]
             ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Sutton & Barto's Example 6.6 on Gymnasium's CliffWalking: eps = 0.1 throughout, the
    reward of every training episode (the online performance of Figure 6.4), and the
    return of each final greedy policy (the path it learned).

    Returns:
        Rewards per episode (method, seed, episode, reward), the summary per method (mean
        reward per episode over the episodes after ``burn_in``, mean and std over seeds; the
        greedy path's return), and the final Q tables by "cliffwalking/<method>/<seed>".
    """
    solution = solutions[params["env"]]
    env = TableEnv.from_env(solution["env_id"], **solution["kwargs"])
    mdp = mdp_from_env(solution["env_id"], **solution["kwargs"])
    episodes, burn_in = int(params["episodes"]), int(params["burn_in"])
    rows, summary, tables = [], [], {}
    for method in params["methods"]:
        online, greedy = [], []
        for seed in params["seeds"]:
            run = learn(env, method, seed, episodes, params["alpha"], params["gamma"], float(params["epsilon"]),
                        max_steps_per_episode=int(params["max_steps_per_episode"]))
            rows += [{"method": method, "seed": seed, "episode": i + 1, "reward": r} for i, r in enumerate(run.returns)]
            online.append(run.returns[burn_in:].mean())
            greedy.append(horizon_value(mdp, greedy_policy(run.Q), int(params["greedy_horizon"])))
            tables[f"{params['env']}/{method}/{seed}"] = run.Q
        summary.append({"method": method, "seeds": len(online), "episodes": episodes, "burn_in": burn_in,
                        "online_reward_mean": float(np.mean(online)), "online_reward_std": float(np.std(online)),
                        "greedy_return_mean": float(np.mean(greedy)),
                        "greedy_return_median": float(np.median(greedy)), "greedy_return_min": float(np.min(greedy)),
                        # a greedy policy that walks in a loop never reaches the goal: -1 per step to the horizon
                        "greedy_reaches_goal": int(np.sum(np.array(greedy) > -int(params["greedy_horizon"]))),
                        "greedy_return_max": float(np.max(greedy)),
                        "optimal_return": solution["optimal_return"]})
    return pd.DataFrame(rows), pd.DataFrame(summary), tables


# --- 3. policy gradients on CartPole -----------------------------------------------------


def numpy_actor(agent: ActorCritic):
    """The greedy action of the agent's policy, computed in NumPy: the same argmax as
    ``PolicyModel.act`` without torch's per-call overhead (100 evaluation episodes of 500
    steps are 50,000 calls)."""
    layers = [(m.weight.detach().numpy().astype(np.float64), m.bias.detach().numpy().astype(np.float64))
              for m in agent.policy if isinstance(m, torch.nn.Linear)]

    def act(observation: np.ndarray) -> int:
        x = np.asarray(observation, dtype=np.float64)
        for i, (weight, bias) in enumerate(layers):
            x = weight @ x + bias
            if i < len(layers) - 1:
                x = np.tanh(x)
        return int(np.argmax(x))
    return act


def train_policy_gradients(params: dict[str, Any], trainer: dict[str, Any]
                           ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, ActorCritic], ActorCritic]:
    """Every method over every seed through the core loop (one iteration = one update), then
    100 seeded episodes of the greedy policy.

    Every ``selection.every`` updates the greedy policy plays ``selection.episodes`` episodes
    (seeds of their own) and the loop keeps the best such policy, as an evaluation callback
    keeps the best model: policy-gradient policies can get worse after being good. The
    final 100 episodes use other seeds, so the kept policy is not measured on the episodes
    that chose it.

    Returns:
        The learning curves (method, seed, update, env_steps, return: the mean return of
        the episodes of that update, or of the last 20 finished ones for A2C), the results
        (method, seed, env steps, seconds, evaluation mean and std, solved), the trained
        agents by "<method>/<seed>", and the snapshot of the ``variance.method`` agent after
        ``snapshot_update`` updates (the policy whose gradient variance is measured).
    """
    curves, results, agents = [], [], {}
    snapshot = None
    settings = {k: params[k] for k in ("env_id", "gamma", "lr", "value_lr", "value_steps", "episodes_per_update", "a2c")}
    evaluation, selection = params["evaluation"], params["selection"]

    def greedy_return(state: PGTrainer, context: Any) -> dict[str, float]:
        returns = evaluate_policy(params["env_id"], numpy_actor(state.agent), int(selection["episodes"]),
                                  seed=int(selection["seed"]))
        return {"greedy_return": float(returns.mean())}

    for method in params["methods"]:
        for seed in params["seeds"]:
            torch.manual_seed(seed)
            state = PGTrainer(method, ActorCritic(params["observation_size"], params["n_actions"], params["hidden"]),
                              {**settings, "snapshot_update": params["snapshot_update"]}, seed)
            loop = {**params["loop"], "max_iterations": int(params["updates"][method]), "seed": seed,
                    "eval_every": int(selection["every"][method]), "monitor": "greedy_return", "mode": "max",
                    "restore_best": True}
            # Restoring the best state at the end rewinds state.curve to that update; the list
            # the last update appended to (resumed rows included) still holds every update.
            trained = {"curve": state.curve}

            def update(s: PGTrainer, context: Any) -> dict[str, float]:
                metrics = s.update()
                trained["curve"] = s.curve
                return metrics

            result = run_loop(state, update, name=f"reinforcement_learning/{method}/seed{seed}",
                              loop_params=loop, trainer_params=trainer, evaluate=greedy_return)
            history = trained["curve"]
            curves += [{"method": method, "seed": seed, **row} for row in history]
            agent = state.agent.eval()
            returns = evaluate_policy(params["env_id"], numpy_actor(agent), int(evaluation["episodes"]),
                                      seed=int(evaluation["seed"]))
            results.append({"method": method, "seed": seed, "updates": result.iterations,
                            "kept_update": int(result.best_iteration) + 1, "selection_return": result.best_score,
                            "env_steps": int(history[-1]["env_steps"]), "seconds": result.seconds,
                            "eval_mean": float(returns.mean()), "eval_std": float(returns.std()),
                            "eval_episodes": len(returns),
                            "solved": bool(returns.mean() >= float(params["solved_at"]))})
            agents[f"{method}/{seed}"] = agent
            if method == params["variance"]["method"] and seed == params["variance"]["seed"]:
                snapshot = state.snapshot
    if snapshot is None:
        raise ValueError("reinforcement_learning.policy_gradient.variance: no snapshot was taken; the method and seed "
                         "must be among those trained and snapshot_update <= its updates")
    return pd.DataFrame(curves), pd.DataFrame(results), agents, snapshot


def gradient_variance(snapshot: ActorCritic, params: dict[str, Any]) -> pd.DataFrame:
    """The three REINFORCE estimators of grad J for ONE fixed policy (the snapshot), from the
    same sampled episodes: the covariance trace of one episode's term, of a batch mean of
    ``batch_size`` episodes (trace / batch_size, the batches being independent), the norm
    of the mean (the same expectation for all three) and its cosine with reward-to-go's."""
    from dl_roadmap.rl.policy_gradients import make_vector_env

    variance = params["variance"]
    venv = make_vector_env(params["env_id"], int(variance["episodes"]))
    batch = sample_episodes(snapshot, venv, int(variance["episodes"]), int(variance["sample_seed"]))
    venv.close()
    grads = per_episode_gradients(snapshot, batch, float(params["gamma"]))
    reference = grads["reward_to_go"].mean(0)
    rows = []
    for method, g in grads.items():
        trace = float(g.var(axis=0, ddof=1).sum())
        mean = g.mean(0)
        rows.append({"estimator": method, "episodes": len(g), "mean_return": float(batch.returns.mean()),
                     "trace_cov_per_episode": trace,
                     "trace_cov_batch": trace / int(variance["batch_size"]), "batch_size": int(variance["batch_size"]),
                     "mean_grad_norm": float(np.linalg.norm(mean)),
                     "cosine_with_reward_to_go": float(mean @ reference / (np.linalg.norm(mean) * np.linalg.norm(reference)))})
    table = pd.DataFrame(rows)
    table["variance_ratio_to_reinforce"] = table["trace_cov_per_episode"] / table["trace_cov_per_episode"].iloc[0]
    return table


# --- 4. models, animations, explanation data -----------------------------------------------


def best_agent(results: pd.DataFrame, agents: dict[str, ActorCritic]) -> tuple[ActorCritic, str]:
    """The agent with the best evaluation return (the first among ties): it is logged,
    animated and explained."""
    row = results.sort_values("eval_mean", ascending=False, kind="stable").iloc[0]
    return agents[f"{row['method']}/{int(row['seed'])}"], f"{row['method']}/{int(row['seed'])}"


def policy_models(params: dict[str, Any], frozenlake_q: dict[str, np.ndarray], cliff_q: dict[str, np.ndarray],
                  agents: dict[str, ActorCritic]) -> dict[str, PolicyModel]:
    """Each trained policy of seed ``log_seed`` as a PolicyModel: greedy tables (a state index
    in, the action out) and CartPole policies (4 observations in, 0 = push left / 1 = right out);
    only those named in ``log`` when it is a list (null: all)."""
    seed = params["log_seed"]
    models = {}
    for key, Q in {**frozenlake_q, **cliff_q}.items():
        name, method, run_seed = key.split("/")
        if int(run_seed) == seed:
            models[f"{name}_{method}"] = PolicyModel(TabularPolicy(Q), discrete=True)
    for key, agent in agents.items():
        method, run_seed = key.split("/")
        if int(run_seed) == seed:
            models[f"cartpole_{method}"] = PolicyModel(agent.policy, discrete=True)
    if params.get("log") is not None:
        unknown = sorted(set(params["log"]) - set(models))
        if unknown:
            raise ValueError(f"reinforcement_learning.models.log: no trained policy {unknown}; known: {sorted(models)}")
        models = {name: models[name] for name in params["log"]}
    return models


def log_policy_models(models: dict[str, PolicyModel]) -> pd.DataFrame:
    """Log each policy to the active MLflow run as a pyfunc model named
    ``reinforcement_learning_<name>``; the table lists names and model URIs (empty URIs
    outside a tracked run)."""
    import mlflow

    rows = []
    for name, model in models.items():
        uri = ""
        if mlflow.active_run() is not None:
            info = mlflow.pyfunc.log_model(name=f"reinforcement_learning_{name}", python_model=model,
                                           pip_requirements=["torch==2.13.0", "numpy", "pandas"])
            uri = info.model_uri
        rows.append({"policy": name, "observation_width": model.width, "discrete": model.discrete, "model_uri": uri})
    return pd.DataFrame(rows)


def agent_gifs(params: dict[str, Any], agent: ActorCritic, solutions: dict[str, dict[str, Any]],
               frozenlake_q: dict[str, np.ndarray], cliff_q: dict[str, np.ndarray]) -> tuple[Image, Image, Image, Image]:
    """One seeded greedy episode of the best CartPole agent, Q-learning on FrozenLake 4x4,
    and SARSA against Q-learning on CliffWalking (seed ``log_seed`` tables)."""
    gif, seed = params["gif"], params["log_seed"]

    def table_policy(Q: np.ndarray):
        policy = greedy_policy(Q)
        return lambda s: int(policy[s])

    def animate(env_id: str, act, kwargs: dict[str, Any], max_frames: int, every: int, frame_ms: int) -> Image:
        frames = record_episode(env_id, act, seed=int(gif["seed"]), max_frames=max_frames, every=every,
                                env_kwargs=kwargs, max_side=int(gif["max_side"]))
        return gif_from_frames(frames, frame_ms=frame_ms)

    lake, cliff = solutions["frozenlake_4x4"], solutions["cliffwalking"]
    cartpole = animate(params["cartpole_env_id"], numpy_actor(agent), {}, gif["cartpole_frames"], gif["cartpole_every"], 40)
    frozen = animate(lake["env_id"], table_policy(frozenlake_q[f"frozenlake_4x4/q_learning/{seed}"]), lake["kwargs"],
                     gif["grid_frames"], 1, 250)
    sarsa = animate(cliff["env_id"], table_policy(cliff_q[f"cliffwalking/sarsa/{seed}"]), cliff["kwargs"],
                    gif["grid_frames"], 1, 200)
    q_learning = animate(cliff["env_id"], table_policy(cliff_q[f"cliffwalking/q_learning/{seed}"]), cliff["kwargs"],
                         gif["grid_frames"], 1, 200)
    return cartpole, frozen, sarsa, q_learning


def explain_data(agent: ActorCritic, params: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Observations the agent meets: states of a few greedy episodes, thinned, for the explain
    stage (items and SHAP's background)."""
    from dl_roadmap.rl.envs import make_env

    spec = params["explain_data"]
    act = numpy_actor(agent)
    env = make_env(params["env_id"])
    observations = []
    for episode in range(int(spec["episodes"])):
        obs, _ = env.reset(seed=int(spec["seed"]) + episode)
        done, step = False, 0
        while not done:
            if step % int(spec["every"]) == 0:
                observations.append(obs)
            obs, _, terminated, truncated, _ = env.step(act(obs))
            done, step = terminated or truncated, step + 1
    env.close()
    return {"observations": torch.as_tensor(np.stack(observations), dtype=torch.float32)}


def summary_metrics(dp: pd.DataFrame, frozenlake: pd.DataFrame, cliff: pd.DataFrame, pg: pd.DataFrame,
                    variance: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The README's headline figures as MLflow metrics."""
    metrics: dict[str, float] = {}
    for _, r in dp.iterrows():
        metrics[f"dp/{r['env']}/optimal_return"] = r["optimal_return_exact"]
        metrics[f"dp/{r['env']}/max_value_gap"] = r["max_value_gap"]
    for _, r in frozenlake.iterrows():
        metrics[f"td/{r['env']}/{r['method']}/success_mean"] = r["success_mean"]
    for _, r in cliff.iterrows():
        metrics[f"cliff/{r['method']}/online_reward_mean"] = r["online_reward_mean"]
        metrics[f"cliff/{r['method']}/greedy_return_mean"] = r["greedy_return_mean"]
    for method, group in pg.groupby("method"):
        metrics[f"pg/{method}/eval_mean"] = group["eval_mean"].mean()
        metrics[f"pg/{method}/solved_seeds"] = float(group["solved"].sum())
    for _, r in variance.iterrows():
        metrics[f"variance/{r['estimator']}/trace_cov_per_episode"] = r["trace_cov_per_episode"]
    return metrics_for_mlflow(metrics)
