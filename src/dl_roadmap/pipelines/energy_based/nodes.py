"""Nodes of energy_based: RBMs trained by CD-1, CD-k and PCD (ours and scikit-learn's), their
log-likelihood by AIS, sampling and inpainting; the Hopfield network; a deep belief net
pretraining a classifier; the RBM as a generator on the shared yardstick. Plain functions of
plain values (the maths is in rbm.py, ais.py, hopfield.py, dbn.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.image.classification import classifier_step_for
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.pipelines.energy_based import ais, hopfield
from dl_roadmap.pipelines.energy_based.dbn import model_from_config as dbn_from_config
from dl_roadmap.pipelines.energy_based.dbn import propagate_up
from dl_roadmap.pipelines.energy_based.rbm import RBM, GibbsSampler
from dl_roadmap.pipelines.energy_based.train import monitor_scores, rbm_from_sklearn, sklearn_from_rbm, train_rbm

logger = logging.getLogger(__name__)

# Salakhutdinov & Murray (2008), "On the quantitative analysis of deep belief networks",
# ICML, Table 2: average test log-probability (nats) of 500-hidden-unit RBMs on binarized
# MNIST, log Z by AIS (the models were trained on all 60,000 images).
PUBLISHED_TEST_LL = {"cd1": -125.53, "cd3": -105.50, "cd25": -86.34}


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Seeded train/val/test splits of MNIST (grey images, uint8)."""
    return split_mnist(raw, params)


def binarize(splits: dict[str, np.ndarray], split: str, seed: int, limit: int | None = None) -> torch.Tensor:
    """Rows (N, 784) in {0, 1}: each pixel drawn once as Bernoulli(its grey level), the
    stochastic binarization of Salakhutdinov & Murray (fixed by ``seed``)."""
    grey = image_tensor(splits, split).flatten(1)[:limit]
    return torch.bernoulli(grey, generator=torch.Generator().manual_seed(seed))


# --- RBM: the formula check against scikit-learn, training, likelihood --------------------

def check_against_sklearn(splits: dict[str, np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
    """Our free energy and pseudo-log-likelihood against scikit-learn's ``BernoulliRBM`` on
    the same weights (a scikit-learn model fitted briefly, its weights copied into ours), and
    the time of one PCD epoch of each on the same batches."""
    from sklearn.neural_network import BernoulliRBM

    torch.set_num_threads(int(params["threads"]))
    data = binarize(splits, "train", params["seed"], params["rows"])
    x = data.double().numpy()
    settings = {"hidden": params["hidden"], "lr": params["lr"], "batch_size": params["batch_size"],
                "epochs": 1, "method": "pcd"}
    reference = BernoulliRBM(n_components=params["hidden"], learning_rate=params["lr"], batch_size=params["batch_size"],
                             n_iter=1, random_state=params["seed"])
    start = time.perf_counter()
    reference.fit(data.numpy())
    sklearn_s = time.perf_counter() - start
    start = time.perf_counter()
    train_rbm(data, settings, "formula_check")
    ours_s = time.perf_counter() - start

    ours = rbm_from_sklearn(reference).double()
    free_diff = np.abs(ours.free_energy(torch.from_numpy(x)).numpy() - reference._free_energy(x)).max()
    # score_samples flips one pixel per row drawn from RandomState(random_state): draw the same.
    flip = np.random.RandomState(params["seed"]).randint(0, x.shape[1], x.shape[0])
    pll_diff = np.abs(ours.pseudo_log_likelihood(torch.from_numpy(x), torch.from_numpy(flip)).numpy()
                      - reference.score_samples(x)).max()
    table = pd.DataFrame([{"rows": len(x), "hidden": params["hidden"], "max_free_energy_diff": float(free_diff),
                           "max_pseudo_ll_diff": float(pll_diff), "ours_pcd_epoch_s": ours_s,
                           "sklearn_pcd_epoch_s": sklearn_s}])
    logger.info("free energy / pseudo-LL vs scikit-learn: %s", table.iloc[0].to_dict())
    return table


def train_rbms(splits: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[dict[str, RBM], pd.DataFrame]:
    """Train every RBM of ``params["methods"]`` on the binarized training images with the
    same hidden units, learning rate, batch size and epochs; ``sklearn_pcd`` is scikit-learn's
    ``BernoulliRBM`` (PCD), run batch by batch so that its pseudo-likelihood is recorded per
    epoch too.

    Returns:
        The RBMs by method, and the training history (one row per method and epoch).
    """
    torch.set_num_threads(int(params["threads"]))
    data = binarize(splits, "train", params["seed"], params.get("train_rows"))
    monitor = binarize(splits, "val", params["seed"] + 1, params["monitor_rows"])
    shared = {key: params[key] for key in ("hidden", "lr", "batch_size", "epochs")}
    models, histories = {}, []
    for name, method in params["methods"].items():
        if method["method"] == "sklearn_pcd":
            models[name], history = _train_sklearn(data, monitor, shared, params["seed"], name)
        else:
            models[name], history = train_rbm(data, {**shared, **method}, name, monitor, seed=params["seed"])
        histories.append(history.assign(method=name))
    return models, pd.concat(histories, ignore_index=True)


def _train_sklearn(data: torch.Tensor, monitor: torch.Tensor, settings: dict[str, Any], seed: int, name: str
                   ) -> tuple[RBM, pd.DataFrame]:
    """scikit-learn's PCD through ``partial_fit`` on the same batches in the same order:
    the same updates and random draws as ``fit`` (one RandomState from ``random_state``)."""
    from sklearn.neural_network import BernoulliRBM

    from dl_roadmap.core.tracking import log_metrics

    model = BernoulliRBM(n_components=settings["hidden"], learning_rate=settings["lr"],
                         batch_size=settings["batch_size"], n_iter=1, random_state=seed)
    x, batch, rows, start = data.numpy(), int(settings["batch_size"]), [], time.perf_counter()
    for epoch in range(1, int(settings["epochs"]) + 1):
        for i in range(0, len(x), batch):
            model.partial_fit(x[i:i + batch])
        row = {"epoch": epoch, "seconds": time.perf_counter() - start,
               **monitor_scores(rbm_from_sklearn(model), monitor, seed)}
        rows.append(row)
        log_metrics({f"{name}/{key}": value for key, value in row.items() if key != "epoch"}, step=epoch)
    return rbm_from_sklearn(model), pd.DataFrame(rows)


def estimate_likelihoods(models: dict[str, RBM], splits: dict[str, np.ndarray], params: dict[str, Any],
                         rbm_params: dict[str, Any]) -> pd.DataFrame:
    """log Z of every RBM by AIS, then the average log-likelihood of train and test images
    (log p(v) = -F(v) - log Z), beside the published figures, and the pseudo-log-likelihood
    of the test images (one random pixel per row, as scikit-learn's ``score_samples``)."""
    torch.set_num_threads(int(rbm_params["threads"]))
    seed = rbm_params["seed"]
    train = binarize(splits, "train", seed, rbm_params.get("train_rows"))
    test = binarize(splits, "test", seed + 2)
    b_a = ais.base_rate_biases(train)
    betas = ais.beta_schedule(params["betas"])
    rows = []
    for name, rbm in models.items():
        start = time.perf_counter()
        z = ais.ais_log_partition(rbm, b_a, betas, runs=int(params["runs"]), seed=int(params["seed"]))
        test_ll = ais.mean_log_likelihood(rbm, test, z["log_z"])
        method = rbm_params["methods"][name]
        anchor_key = "cd1" if method["method"] == "cd" and method.get("k", 1) == 1 else \
            f"cd{method.get('k')}" if method["method"] == "cd" else None
        rows.append({
            "method": name, "hidden": rbm.hidden, "epochs": rbm_params["epochs"],
            "train_images": len(train), "ais_betas": len(betas), "ais_runs": int(params["runs"]),
            **{key: z[key] for key in ("log_z", "log_z_low", "log_z_high", "effective_runs")},
            "train_ll": ais.mean_log_likelihood(rbm, train, z["log_z"]), "test_ll": test_ll,
            # the band of log Z gives the band of the log-likelihood (a higher Z, a lower LL)
            "test_ll_low": test_ll - (z["log_z_high"] - z["log_z"]),
            "test_ll_high": test_ll + (z["log_z"] - z["log_z_low"]),
            "test_pseudo_ll": monitor_scores(rbm, test, seed)["pseudo_log_likelihood"],
            # the same estimate by scikit-learn's score_samples on our weights (its own flips)
            "test_pseudo_ll_sklearn": float(sklearn_from_rbm(rbm, seed).score_samples(test.double().numpy()).mean()),
            "published_test_ll_500h": PUBLISHED_TEST_LL.get(anchor_key, np.nan),
            "ais_seconds": time.perf_counter() - start,
        })
        logger.info("%s: log Z %.2f, test log-likelihood %.2f nats", name, z["log_z"], test_ll)
    return pd.DataFrame(rows)


def exact_partition_check(splits: dict[str, np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
    """A small RBM (784 x ``hidden``, trained by CD-1 on MNIST) whose log Z can be summed
    exactly over its 2^hidden hidden states, against AIS with the pipeline's schedule."""
    torch.set_num_threads(int(params["threads"]))
    data = binarize(splits, "train", params["seed"], params["train_rows"])
    rbm, _ = train_rbm(data, {**params["train"], "hidden": params["hidden"]}, "exact_check", seed=params["seed"])
    start = time.perf_counter()
    exact = rbm.exact_log_partition()
    exact_s = time.perf_counter() - start
    start = time.perf_counter()
    z = ais.ais_log_partition(rbm, ais.base_rate_biases(data), ais.beta_schedule(params["betas"]),
                              runs=int(params["runs"]), seed=params["seed"])
    row = {"hidden": params["hidden"], "exact_log_z": exact, "ais_log_z": z["log_z"], "ais_log_z_low": z["log_z_low"],
           "ais_log_z_high": z["log_z_high"], "abs_error": abs(z["log_z"] - exact), "exact_seconds": exact_s,
           "ais_seconds": time.perf_counter() - start}
    logger.info("exact log Z %.3f, AIS %.3f", exact, z["log_z"])
    return pd.DataFrame([row])


# --- sampling and inpainting -------------------------------------------------------------

@torch.no_grad()
def gibbs_chains(models: dict[str, RBM], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Chains from uniformly random pixels: p(v | h) of ``chains`` chains at each step of
    ``snapshots``, for the generator RBM. Returns {"steps": (S,), "images": (S, chains, 28, 28)}."""
    rbm = models[params["model"]]
    g = torch.Generator().manual_seed(params["seed"])
    v = torch.bernoulli(torch.full((params["chains"], rbm.visible), 0.5), generator=g)
    shots, done = [], 0
    for step in params["snapshots"]:
        v, p = rbm.gibbs(v, step - done, generator=g)
        done = step
        shots.append(p.view(-1, 28, 28).numpy())
    return {"steps": np.asarray(params["snapshots"]), "images": np.stack(shots)}


@torch.no_grad()
def inpaint(models: dict[str, RBM], splits: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[
        dict[str, np.ndarray], pd.DataFrame]:
    """Half-occluded test digits completed by the RBM: the visible half is clamped, the
    hidden half starts random and Gibbs sampling fills it; the answer is p(v | h) averaged
    over the last ``average`` steps. Scored by the mean squared error on the occluded pixels
    against the binarized truth, beside filling them with the training mean."""
    rows, images = [], {}
    truth = binarize(splits, "test", params["seed"], params["images"])
    mean = binarize(splits, "train", params["seed"]).mean(0)
    mask = torch.zeros(28, 28, dtype=torch.bool)
    mask[14:] = True  # the bottom half is hidden
    mask = mask.flatten()
    for name in params["models"]:
        rbm = models[name]
        g = torch.Generator().manual_seed(params["seed"])
        v = truth.clone()
        v[:, mask] = torch.bernoulli(torch.full((len(v), int(mask.sum())), 0.5), generator=g)
        total = torch.zeros_like(v)
        for step in range(params["steps"]):
            h = torch.bernoulli(rbm.p_h(v), generator=g)
            p = rbm.p_v(h)
            v[:, mask] = torch.bernoulli(p[:, mask], generator=g)
            if step >= params["steps"] - params["average"]:
                total += p
        filled = truth.clone()
        filled[:, mask] = (total / params["average"])[:, mask]
        images[name] = filled.view(-1, 28, 28).numpy()
        rows.append({"model": name, "occluded_mse": float(((filled - truth)[:, mask] ** 2).sum(1).mean())})
    rows.append({"model": "training mean",
                 "occluded_mse": float(((mean[mask] - truth[:, mask]) ** 2).sum(1).mean())})
    shown = truth.clone()
    shown[:, mask] = 0.5
    images = {"truth": truth.view(-1, 28, 28).numpy(), "occluded": shown.view(-1, 28, 28).numpy(), **images}
    return images, pd.DataFrame(rows)


# --- Hopfield network --------------------------------------------------------------------

def hopfield_study(params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """The capacity curve (random patterns), the energy along one asynchronous recall, and a
    recall of corrupted binary digits.

    Returns:
        The capacity table (one row per load), the energy trace (one row per neuron
        update), and the recall pictures {"stored", "corrupted", "recalled"}.
    """
    cap = params["capacity"]
    curve = hopfield.capacity_curve(cap["neurons"], cap["loads"], cap["trials"], cap["flip_fraction"],
                                    cap["threshold"], seed=params["seed"])
    rng = np.random.default_rng(params["seed"])
    demo = params["demo"]
    patterns = rng.choice([-1.0, 1.0], size=(demo["patterns"], demo["side"] ** 2))
    weights = hopfield.hebbian_weights(patterns)
    start = hopfield.corrupt(patterns, demo["flip_fraction"], rng)
    recalled, energies = hopfield.recall(weights, start, rng, record_energy=True)
    trace = pd.DataFrame(np.stack(energies), columns=[f"pattern_{i}" for i in range(len(patterns))])
    trace.insert(0, "update", np.arange(len(trace)))
    side = demo["side"]
    pictures = {key: (value.reshape(-1, side, side) + 1) / 2
                for key, value in {"stored": patterns, "corrupted": start, "recalled": recalled}.items()}
    logger.info("Hopfield: recall falls below 50%% at load %.3f", hopfield.critical_load(curve))
    return pd.DataFrame(curve), trace, pictures


# --- deep belief net ----------------------------------------------------------------------

def pretrain_dbn(models: dict[str, RBM], splits: dict[str, np.ndarray], params: dict[str, Any]) -> list[RBM]:
    """The greedy stack: RBM 1 is the trained ``first_layer`` RBM; each upper RBM is trained
    (CD-1) on p(h | v) of the layer below, on the same unlabelled training images."""
    torch.set_num_threads(int(params["threads"]))
    stack = [models[params["first_layer"]]]
    data = propagate_up(stack[0], binarize(splits, "train", params["seed"], params.get("train_rows")))
    for i, hidden in enumerate(params["upper_layers"], start=2):
        rbm, _ = train_rbm(data, {**params["train"], "hidden": hidden, "method": "cd", "k": 1}, f"dbn_layer{i}",
                           seed=params["seed"])
        stack.append(rbm)
        data = propagate_up(rbm, data)
    return stack


def dbn_label_budget(stack: list[RBM], splits: dict[str, np.ndarray], params: dict[str, Any],
                     trainer: dict[str, Any]) -> tuple[pd.DataFrame, torch.nn.Module]:
    """The same sigmoid net fine-tuned on ``labels_per_class`` labelled images per class,
    from the DBN's weights and from a random start, once per seed; test accuracy on the
    whole test split.

    Returns:
        One row per (seed, start), and the pretrained net of the first seed (explained by
        the explain stage).
    """
    from dl_roadmap.image.data import labelled_split

    torch.set_num_threads(int(params["threads"]))
    test = labelled_split(splits, "test")
    val = labelled_split({key: splits[key][: params.get("val_rows")] for key in ("val_images", "val_labels")}, "val")
    rows, kept = [], None
    for seed in params["seeds"]:
        rng = np.random.default_rng(seed)
        idx = np.concatenate([rng.choice(np.flatnonzero(splits["train_labels"] == c), params["labels_per_class"],
                                         replace=False) for c in range(10)])
        budget = {"train_images": splits["train_images"][idx], "train_labels": splits["train_labels"][idx]}
        train = labelled_split(budget, "train")
        for pretrained in (True, False):
            config = {"model": {"layers": [rbm.hidden for rbm in stack]}, "pretrained": pretrained,
                      "fit": {**params["fit"], "seed": seed, "monitor": "val_acc", "mode": "max"}}
            name = f"dbn/{'pretrained' if pretrained else 'scratch'}/seed{seed}"
            result = fit(dbn_from_config(config, stack), train, val, step=classifier_step_for(config), name=name,
                         fit_params=config["fit"], trainer_params=trainer)
            model = result.model.eval()
            with torch.no_grad():
                logits = torch.cat([model(x) for x, _ in torch.utils.data.DataLoader(test, batch_size=2048)])
            acc = float((logits.argmax(1) == test.tensors[1]).float().mean())
            rows.append({"seed": seed, "start": "dbn" if pretrained else "scratch", "labels": len(idx),
                         "test_acc": acc})
            if pretrained and kept is None:
                kept = model
            logger.info("%s: test accuracy %.4f", name, acc)
    return pd.DataFrame(rows), kept


def dbn_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of the test accuracy over seeds, per start."""
    table = runs.groupby("start")["test_acc"].agg(["mean", "std", "count"]).reset_index()
    return table.rename(columns={"mean": "test_acc_mean", "std": "test_acc_std", "count": "seeds"})


# --- the RBM as a generator ------------------------------------------------------------------

def rbm_generator(models: dict[str, RBM], params: dict[str, Any]) -> GibbsSampler:
    """The generator RBM wrapped as a sampler (``sample(n, generator)``)."""
    return GibbsSampler(models[params["model"]], steps=params["steps"])


def yardstick_scores(splits: dict[str, np.ndarray], sampler: GibbsSampler, likelihoods: pd.DataFrame,
                     params: dict[str, Any], config: dict[str, Any], trainer: dict[str, Any]) -> pd.DataFrame:
    """The shared yardstick on ``n`` RBM samples, with the reference rows, and the AIS
    negative log-likelihood of the generator RBM (nats and bits per dimension)."""
    from dl_roadmap.image.yardstick import Yardstick, yardstick_table

    torch.set_num_threads(int(params["threads"]))
    stick = Yardstick.fit(splits, config, trainer)
    samples = sampler.sample(int(params["n"]), torch.Generator().manual_seed(params["seed"]))
    row = stick.score(samples, name=f"RBM ({params['model']}, Gibbs {sampler.steps} steps) mnist")
    nll = -float(likelihoods.set_index("method").loc[params["model"], "test_ll"])
    row.update(nll_nats=nll, bits_per_dim=nll / (784 * np.log(2)))
    return yardstick_table([row, *stick.reference_rows(int(params["n"]))])


def log_generator(sampler: GibbsSampler) -> Any:
    """The generator as an MLflow pyfunc model (GeneratorModel): input a DataFrame with
    columns ``n`` and ``seed``; output float32 (n, 1, 28, 28) in [0, 1], p(v | h) after the
    sampler's Gibbs steps from random pixels."""
    from dl_roadmap.image.generator_model import GeneratorModel

    return GeneratorModel(sampler.eval(), conditional=False)


def summary_metrics(likelihoods: pd.DataFrame, exact: pd.DataFrame, check: pd.DataFrame, inpainting: pd.DataFrame,
                    capacity: pd.DataFrame, dbn: pd.DataFrame, yardstick: pd.DataFrame,
                    generator: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The headline figures as MLflow metrics (the generator's test NLL among them)."""
    values: dict[str, float] = {}
    for row in likelihoods.itertuples():
        values[f"{row.method}_test_ll"] = row.test_ll
        values[f"{row.method}_log_z"] = row.log_z
        values[f"{row.method}_test_pseudo_ll"] = row.test_pseudo_ll
    values["test_nll"] = -float(likelihoods.set_index("method").loc[generator["model"], "test_ll"])
    values["exact_check_abs_error"] = exact["abs_error"].iloc[0]
    values["sklearn_max_free_energy_diff"] = check["max_free_energy_diff"].iloc[0]
    values["sklearn_max_pseudo_ll_diff"] = check["max_pseudo_ll_diff"].iloc[0]
    for row in inpainting.itertuples():
        values[f"inpaint_mse_{row.model.replace(' ', '_')}"] = row.occluded_mse
    values["hopfield_critical_load"] = hopfield.critical_load(capacity.to_dict("records"))
    for row in dbn.itertuples():
        values[f"dbn_{row.start}_test_acc_mean"] = row.test_acc_mean
    generated = yardstick.iloc[0]
    values.update(yardstick_fid=float(generated["fid"]), yardstick_precision=float(generated["precision"]),
                  yardstick_recall=float(generated["recall"]))
    return metrics_for_mlflow(values)

