"""The bodies' positions in a predicted frame as a differentiable loss (train_unet.py
--centroid-weight; assets/models/billiards-unet.md, "Round 20").

A squared pixel error barely sees a small ball drawn a fraction of a pixel short of where it
went, and can be lowered by fading a body it is unsure of. This loss reads each body where the
fidelity report does, by its colour: per body j in view in the true frame (its id mask from the
renderer, id j + 1), the colour c_j is the mean of the true frame over the mask, and within a
disc around the mask (its radius sqrt(n / pi) plus `margin` px) each pixel weighs
w = exp(-|rgb - c_j|^2 / (2 sigma^2)). The same weighting is applied to the predicted and to the
true frame, so the target is the rendered frame's own soft centroid (the quantity the body finder
measures, up to its thresholds) and no calibration enters. Per body: the L1 distance in px
between the two weighted centroids, plus the relative difference of their masses
|m_pred - m_true| / (m_true + 1) (a faded or smeared body loses mass); the centroid term is
weighed by min(1, m_pred / m_true), so a body faded to nothing is brought back by its mass first. Bodies with fewer than
`min_pixels` pixels in view are left out, as are steps past an episode's end."""
import numpy as np


def window_ids(episodes, windows, k: int):
    """[B, k, H, W] u8: the id masks of the k target frames of each window (episode, s) (target
    i is frame s + i + 1), 0 (no body) past the episode's end."""
    h, w = episodes[0]["ids"].shape[1:]
    out = np.zeros((len(windows), k, h, w), np.uint8)
    for j, (ei, s) in enumerate(windows):
        e = episodes[ei]
        n = min(k, e["act"].shape[0] - s)
        if n > 0:
            out[j, :n] = e["ids"][s + 1: s + 1 + n]
    return out


def centroid_loss(pred, target, ids, bodies: int, torch, sigma: float = 0.15, margin: float = 4.0,
                  min_pixels: int = 3):
    """pred, target [B, 3, H, W] in [0, 1]; ids [B, H, W] integer (body j where id j + 1);
    `bodies` K. Returns (loss per window [B], bodies counted per window [B]): the sum over the
    window's bodies of centroid L1 (px) + relative mass difference."""
    b, _, h, w = target.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=target.device, dtype=target.dtype),
                            torch.arange(w, device=target.device, dtype=target.dtype), indexing="ij")
    total = torch.zeros(b, device=target.device, dtype=target.dtype)
    count = torch.zeros(b, device=target.device, dtype=target.dtype)
    for j in range(bodies):
        m = (ids == j + 1).to(target.dtype)  # [B, H, W]
        n = m.sum((1, 2))
        ok = n >= min_pixels
        if not bool(ok.any()):
            continue
        nn = n.clamp_min(1.0)
        col = (target * m[:, None]).sum((2, 3)) / nn[:, None]  # [B, 3]
        cx = (m * xs).sum((1, 2)) / nn
        cy = (m * ys).sum((1, 2)) / nn
        rad = (nn / np.pi).sqrt() + margin
        disc = (((xs - cx[:, None, None]) ** 2 + (ys - cy[:, None, None]) ** 2)
                <= (rad ** 2)[:, None, None]).to(target.dtype)

        def soft(frame):
            d2 = ((frame - col[:, :, None, None]) ** 2).sum(1)
            wgt = torch.exp(-d2 / (2 * sigma * sigma)) * disc
            mass = wgt.sum((1, 2))
            inv = 1.0 / (mass + 1e-6)
            return (wgt * xs).sum((1, 2)) * inv, (wgt * ys).sum((1, 2)) * inv, mass

        px_, py_, pm = soft(pred)
        tx, ty, tm = soft(target)
        # The centroid term is weighed by the predicted share of the mass (not differentiated):
        # of a body faded to nothing the centroid is undefined and its gradient unbounded; the
        # mass term brings it back first.
        gate = (pm / tm.clamp_min(1e-6)).clamp(0.0, 1.0).detach()
        term = gate * ((px_ - tx).abs() + (py_ - ty).abs()) + (pm - tm).abs() / (tm + 1.0)
        total = total + torch.where(ok, term, torch.zeros_like(term))
        count = count + ok.to(target.dtype)
    return total, count
