"""An independent reference for Parallax's RSSM (worldmodel/src/rssm.cpp).

Reads the file written by the hidden Catch2 test "RSSM reference dump for the PyTorch reference"
(tests/worldmodel/test_reference_dump.cpp): the model's weights, its inputs, the torch CPU
generator state, and every result of the C++ library. Recomputes all of it here, written from the
architecture as documented (rssm.hpp, docs: DreamerV3 style), with torch.nn.functional only:

  encoder   stride-2 4x4 convs + SiLU on frames / 255 - 0.5, flattened
  img_in    Linear(no bias) + LayerNorm + SiLU on [z_{t-1}, a_t]
  GRU       LayerNorm(Linear_nobias([x, h])) -> r, c, u; c = tanh(sigmoid(r) * c);
            u = sigmoid(u - 1); h_t = u * c + (1 - u) * h
  prior     MLP block + Linear on h_t -> G x K logits;  posterior: on [h_t, embed_t]
  unimix    p = 0.99 softmax(logits) + 0.01 / K, log-probabilities kept
  sample    Gumbel-max on the log-probabilities (u ~ U(0,1) clamped to [1e-10, 1 - 1e-7]) or the
            mode; straight-through: one_hot + p - sg(p)
  heads     decoder: Linear + SiLU + unflatten + 4x4 stride-2 transposed convs (SiLU between),
            output in the x - 0.5 space; reward head (symlog space), continue head (logit)
  losses    recon = sum over pixels of squared error, mean over B T; reward = mean squared error
            to symlog(r); cont = BCE with logits; KL(p || q) = sum_groups sum_k p (log p - log q)
            per step; dyn = max(1, KL(sg(post) || prior)), rep = max(1, KL(post || sg(prior))),
            means over B T; total = recon + reward + cont + 0.5 dyn + 0.1 rep
  optimiser Adam (torch.optim.Adam, and the update written out), lr 1e-3, eps 1e-8

and compares: forward results and loss terms to float tolerance, gradients of every parameter
relative to their size, and the weights after two Adam steps. Exit 1 on any mismatch.
usage: rssm_reference.py DUMP_FILE
"""

import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
dump = torch.load(sys.argv[1], weights_only=False)
cfg = json.loads(bytes(dump["config"].tolist()).decode())
G, K = cfg["stoch_groups"], cfg["stoch_classes"]
UNIMIX, FREE = cfg["unimix"], cfg["free_nats"]
DYN, REP = cfg["kl_dyn_scale"], cfg["kl_rep_scale"]
C, H, W = cfg["channels"], cfg["height"], cfg["width"]

P0 = {k[len("param/"):]: v for k, v in dump.items() if k.startswith("param/")}
failures = []


def compare(name, got, want, atol, rtol=0.0):
    got = got.detach().double()
    want = want.detach().double()
    if got.shape != want.shape:
        failures.append(f"{name}: shape {tuple(got.shape)} vs {tuple(want.shape)}")
        return
    err = (got - want).abs()
    bound = atol + rtol * want.abs()  # atol: a number, or a tensor of per-element tolerances
    worst = float((err - bound).max()) if err.numel() else -1.0
    status = "ok" if worst <= 0 else "MISMATCH"
    print(f"{status:8s} {name:40s} max |diff| {float(err.max()):.3e}")
    if worst > 0:
        failures.append(name)


def indexed(prefix, P):
    """Layer indices of a torch::nn::Sequential that hold a weight: [(index, weight, bias)]."""
    out = []
    for k in P:
        if k.startswith(prefix + ".") and k.endswith(".weight"):
            i = int(k[len(prefix) + 1:].split(".")[0])
            out.append((i, P[k], P.get(f"{prefix}.{i}.bias")))
    return sorted(out, key=lambda x: x[0])


def block(x, prefix, P):
    """Linear (no bias) + LayerNorm + SiLU: layers 0 and 1 of the Sequential `prefix`."""
    x = F.linear(x, P[prefix + ".0.weight"])
    x = F.layer_norm(x, (x.shape[-1],), P[prefix + ".1.weight"], P[prefix + ".1.bias"], 1e-5)
    return F.silu(x)


def mlp_out(x, prefix, P):
    """The block then the output Linear (layer 3)."""
    return F.linear(block(x, prefix, P), P[prefix + ".3.weight"], P[prefix + ".3.bias"])


def encode(frames, P):
    b, t = frames.shape[:2]
    x = frames.reshape(b * t, C, H, W).float() / 255.0 - 0.5
    for _, w, bias in indexed("encoder", P):
        x = F.silu(F.conv2d(x, w, bias, stride=2, padding=1))
    return x.reshape(b, t, -1)


def unimix(logits):
    probs = torch.softmax(logits, -1)
    return torch.log((1 - UNIMIX) * probs + UNIMIX / K)


def sample(logp, mode):
    if mode:
        index = logp.argmax(-1)
    else:
        u = torch.rand(logp.shape, dtype=torch.float32)
        index = (logp + -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))).argmax(-1)
    one_hot = F.one_hot(index, K).to(logp.dtype)
    p = logp.exp()
    return (one_hot + p - p.detach()).flatten(1)


def img_step(h, z, a, P, mode):
    x = block(torch.cat([z, a], -1), "img_in", P)
    parts = F.layer_norm(F.linear(torch.cat([x, h], -1), P["gru_linear.weight"]),
                         (3 * h.shape[-1],), P["gru_norm.weight"], P["gru_norm.bias"], 1e-5)
    r, c, u = parts.chunk(3, -1)
    c = torch.tanh(torch.sigmoid(r) * c)
    u = torch.sigmoid(u - 1.0)
    h = u * c + (1 - u) * h
    logp = unimix(mlp_out(h, "prior", P).view(-1, G, K))
    return h, sample(logp, mode), logp


def observe(frames, actions, P, mode):
    b, t = frames.shape[:2]
    e = encode(frames, P)
    D = P["gru_norm.weight"].shape[0] // 3
    h = torch.zeros(b, D)
    z = torch.zeros(b, G * K)
    hs, zs, priors, posts = [], [], [], []
    for i in range(t):
        h, _, prior = img_step(h, z, actions[:, i], P, mode)
        post = unimix(mlp_out(torch.cat([h, e[:, i]], -1), "posterior", P).view(-1, G, K))
        z = sample(post, mode)
        hs.append(h), zs.append(z), priors.append(prior), posts.append(post)
    return torch.stack(hs, 1), torch.stack(zs, 1), torch.stack(priors, 1), torch.stack(posts, 1)


def imagine(h, z, actions, P):
    hs, zs, priors = [], [], []
    for i in range(actions.shape[1]):
        h, z, prior = img_step(h, z, actions[:, i], P, True)
        hs.append(h), zs.append(z), priors.append(prior)
    return torch.stack(hs, 1), torch.stack(zs, 1), torch.stack(priors, 1)


def decode_flat(feat, P):
    x = F.silu(F.linear(feat, P["decoder_in.weight"], P["decoder_in.bias"]))
    convs = indexed("decoder", P)
    c0 = convs[0][1].shape[0]  # transposed conv weights are [in, out, kh, kw]
    side = 2 ** len(convs)
    x = x.view(-1, c0, H // side, W // side)
    for j, (_, w, bias) in enumerate(convs):
        x = F.conv_transpose2d(x, w, bias, stride=2, padding=1)
        if j + 1 < len(convs):
            x = F.silu(x)
    return x


def symlog(x):
    return torch.sign(x) * torch.log1p(x.abs())


def symexp(x):
    return torch.sign(x) * torch.expm1(x.abs())


def kl(lp, lq):
    return (lp.exp() * (lp - lq)).sum((-2, -1))


def loss_terms(P, rng):
    torch.set_rng_state(rng)
    frames, actions = dump["in/frames"], dump["in/actions"]
    h, z, prior, post = observe(frames, actions, P, mode=False)
    feat = torch.cat([h, z], -1).flatten(0, 1)
    target = frames.flatten(0, 1).float() / 255.0 - 0.5
    recon = (decode_flat(feat, P) - target).square().sum((1, 2, 3)).mean()
    reward = (mlp_out(feat, "reward_head", P).squeeze(-1)
              - symlog(dump["in/rewards"].flatten())).square().mean()
    cont = F.binary_cross_entropy_with_logits(mlp_out(feat, "cont_head", P).squeeze(-1),
                                              dump["in/conts"].flatten())
    dyn = kl(post.detach(), prior)
    rep = kl(post, prior.detach())
    kl_dyn = dyn.clamp_min(FREE).mean()
    kl_rep = rep.clamp_min(FREE).mean()
    total = recon + reward + cont + DYN * kl_dyn + REP * kl_rep
    terms = dict(total=total, recon=recon, reward=reward, cont=cont, kl_dyn=kl_dyn,
                 kl_rep=kl_rep, kl=rep.detach().mean())
    return terms, (h, z, prior, post)


def leaf(P):
    return {k: v.detach().clone().requires_grad_(True) for k, v in P.items()}


# ---- forward, deterministic paths ---------------------------------------------------------
with torch.no_grad():
    frames, actions, future = dump["in/frames"], dump["in/actions"], dump["in/future"]
    compare("embed", encode(frames, P0), dump["out/mode/embed"], 1e-5, 1e-4)
    h, z, prior, post = observe(frames, actions, P0, mode=True)
    compare("mode: posterior deter", h, dump["out/mode/post_deter"], 1e-5, 1e-4)
    compare("mode: posterior stoch", z, dump["out/mode/post_stoch"], 1e-6)
    compare("mode: prior log-probs", prior, dump["out/mode/prior_logits"], 1e-5, 1e-4)
    compare("mode: posterior log-probs", post, dump["out/mode/post_logits"], 1e-5, 1e-4)
    hi, zi, pi = imagine(h[:, -1], z[:, -1], future, P0)
    compare("imagine: deter", hi, dump["out/mode/img_deter"], 1e-5, 1e-4)
    compare("imagine: stoch", zi, dump["out/mode/img_stoch"], 1e-6)
    compare("imagine: prior log-probs", pi, dump["out/mode/img_logits"], 1e-5, 1e-4)
    feat = torch.cat([hi, zi], -1)
    b, k = feat.shape[:2]
    dec = (decode_flat(feat.flatten(0, 1), P0) + 0.5).clamp(0, 1).view(b, k, C, H, W)
    compare("decode", dec, dump["out/mode/decode"], 1e-5, 1e-4)
    compare("reward head", symexp(mlp_out(feat, "reward_head", P0).squeeze(-1)),
            dump["out/mode/reward"], 1e-5, 1e-4)
    compare("continue head", torch.sigmoid(mlp_out(feat, "cont_head", P0).squeeze(-1)),
            dump["out/mode/cont"], 1e-6, 1e-4)

# ---- sampled posterior, loss terms, gradients -----------------------------------------------
P = leaf(P0)
with torch.no_grad():
    torch.set_rng_state(dump["rng/loss1"])
    h, z, prior, post = observe(dump["in/frames"], dump["in/actions"], P0, mode=False)
    compare("sample: deter", h, dump["out/sample/deter"], 1e-5, 1e-4)
    compare("sample: stoch (Gumbel-max draws)", z, dump["out/sample/stoch"], 1e-6)
    compare("sample: prior log-probs", prior, dump["out/sample/prior_logits"], 1e-5, 1e-4)
    compare("sample: posterior log-probs", post, dump["out/sample/post_logits"], 1e-5, 1e-4)
terms, _ = loss_terms(P, dump["rng/loss1"])
for name, value in terms.items():
    compare(f"loss: {name}", value, dump[f"out/loss/{name}"], 1e-5, 1e-5)
terms["total"].backward()
missing = [k for k in P if P[k].grad is not None and f"grad1/{k}" not in dump]
if missing:
    failures.append(f"C++ has no gradient for {missing}")
for k in sorted(P):
    want = dump.get(f"grad1/{k}")
    got = P[k].grad if P[k].grad is not None else torch.zeros_like(P[k])
    if want is None:
        want = torch.zeros_like(P[k])
    # Gradients: within 1e-4 of the largest magnitude of that parameter's gradient (float sums
    # over batch and time in another order), plus a floor for all-zero gradients.
    scale = float(want.abs().max())
    compare(f"grad: {k}", got, want, 1e-4 * scale + 1e-7)

# ---- Adam: two steps, torch.optim.Adam and the update written out ---------------------------
grads = [{k: dump.get(f"grad{s}/{k}", torch.zeros_like(P0[k])) for k in P0} for s in (1, 2)]
params = {k: v.detach().clone() for k, v in P0.items()}
opt = torch.optim.Adam(list(params.values()), lr=1e-3, eps=1e-8)
m = {k: torch.zeros_like(v) for k, v in P0.items()}
v2 = {k: torch.zeros_like(v) for k, v in P0.items()}
manual = {k: v.detach().double().clone() for k, v in P0.items()}
b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
for step, g in enumerate(grads, start=1):
    for k, p in params.items():
        p.grad = g[k].clone()
    opt.step()
    for k in manual:
        gd = g[k].double()
        m[k] = b1 * m[k].double() + (1 - b1) * gd
        v2[k] = b2 * v2[k].double() + (1 - b2) * gd * gd
        mhat = m[k] / (1 - b1 ** step)
        vhat = v2[k] / (1 - b2 ** step)
        manual[k] = manual[k] - lr * mhat / (vhat.sqrt() + eps)
    # Compare the updates (weights after minus before: about lr = 1e-3 per element) to 1e-7,
    # 1e-4 of a step, plus two float ulps of the weight (the C++ weights are float): tight enough
    # to see a wrong beta2 (0.99 for 0.999 changes the second step by about 1e-6).
    before = P0 if step == 1 else {k: dump[f"adam1/{k}"] for k in P0}
    for k in sorted(params):
        after = dump[f"adam{step}/{k}"].double()
        want = after - before[k].double()
        tol = 1e-7 + 2.4e-7 * after.abs()
        compare(f"adam step {step} (torch.optim): {k}", params[k].double() - before[k].double(),
                want, tol)
        compare(f"adam step {step} (formula): {k}", manual[k] - before[k].double(), want, tol)

# The second loss, from the weights after one step, closes the loop.
terms2, _ = loss_terms(leaf({k: dump[f"adam1/{k}"] for k in P0}), dump["rng/loss2"])
compare("loss after one Adam step", terms2["total"], dump["out/loss2/total"], 1e-5, 1e-5)

if failures:
    print(f"FAIL: {len(failures)} mismatches: {failures[:10]}")
    sys.exit(1)
print("RSSM matches the PyTorch reference")
