//! The chibi look's big head: a smooth bulge centred on the head, which enlarges it and
//! leaves the picture beyond the bulge's reach untouched (so the body looks small).

use super::plane::Plane;

/// A circle around the head, in pixels of the mask it was found on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Head {
    pub cx: f32,
    pub cy: f32,
    pub radius: f32,
}

/// Where the head is, from the subject mask: the top of the silhouette near the middle,
/// and the width of the silhouette a little below it. `None` when the mask holds no
/// plausible head (empty, or a sliver).
pub(super) fn find_head(mask: &Plane) -> Option<Head> {
    let (width, height) = (mask.width(), mask.height());
    let side = width.min(height) as f32;
    // The run of subject pixels on row y that is nearest the middle column.
    let run = |y: usize| -> Option<(usize, usize)> {
        let inside = |x: usize| mask.get(x, y) > 0.5;
        let middle = width / 2;
        let seed = (0..width / 3)
            .flat_map(|d| [middle.saturating_sub(d), (middle + d).min(width - 1)])
            .find(|x| inside(*x))?;
        let left = (0..seed).rev().find(|x| !inside(*x)).map_or(0, |x| x + 1);
        let right = (seed..width).find(|x| !inside(*x)).unwrap_or(width);
        Some((left, right))
    };
    let top = (0..height).find(|y| run(*y).is_some_and(|(l, r)| (r - l) as f32 > 0.06 * side))?;
    // Half-widths over the upper part of the head (forehead to cheeks), median of them.
    let rows = (top + (0.08 * side) as usize)..(top + (0.22 * side) as usize).min(height);
    let mut spans: Vec<(f32, f32)> = rows
        .filter_map(run)
        .map(|(l, r)| ((r - l) as f32 / 2.0, (l + r) as f32 / 2.0))
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (half_width, cx) = spans[spans.len() / 2];
    let radius = half_width.clamp(0.10 * side, 0.28 * side);
    let cy = (top as f32 + radius * 1.15).clamp(0.2 * side, 0.55 * side);
    Some(Head {
        cx: cx.clamp(0.3 * side, 0.7 * side),
        cy,
        radius,
    })
}

/// `plane` seen through the bulge: magnified `scale` times at the head's centre, less
/// and less up to `reach` head radii away, unchanged beyond. Every pixel samples the
/// source at r·(1 − s(1 − (r/R)²)²), which is smooth and monotonic (so nothing folds)
/// and meets the untouched picture with the same slope (so no visible ring).
///
/// The result is `size`×`size` and `head` is in its pixels; `plane` may be larger (the
/// same picture at a higher resolution), so that the enlarged head keeps its detail.
pub(super) fn bulge(plane: &Plane, head: Head, scale: f32, reach: f32, size: usize) -> Plane {
    let strength = 1.0 - 1.0 / scale.max(1.0);
    let outer = head.radius * reach;
    let zoom = plane.width() as f32 / size as f32;
    Plane::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - head.cx, y as f32 + 0.5 - head.cy);
        let r = (dx * dx + dy * dy).sqrt();
        let factor = if r >= outer {
            1.0
        } else {
            let u = r / outer;
            1.0 - strength * (1.0 - u * u).powi(2)
        };
        plane.sample(
            (head.cx + dx * factor) * zoom,
            (head.cy + dy * factor) * zoom,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc_on_shoulders(side: usize) -> Plane {
        Plane::from_fn(side, side, |x, y| {
            let (fx, fy) = (x as f32, y as f32);
            let head = (fx - 64.0).powi(2) + (fy - 50.0).powi(2) < 26.0f32.powi(2);
            let body = fy > 90.0 && (fx - 64.0).abs() < 50.0;
            if head || body { 1.0 } else { 0.0 }
        })
    }

    #[test]
    fn finds_the_head_of_a_simple_silhouette() {
        let head = find_head(&disc_on_shoulders(128)).unwrap();
        assert!((head.cx - 64.5).abs() < 3.0, "{head:?}");
        assert!((head.radius - 25.0).abs() < 4.0, "{head:?}");
        assert!((head.cy - 50.0).abs() < 10.0, "{head:?}");
        assert_eq!(find_head(&Plane::filled(64, 64, 0.0)), None);
    }

    #[test]
    fn bulge_enlarges_the_centre_and_leaves_the_rest() {
        let mask = disc_on_shoulders(128);
        let head = Head {
            cx: 64.0,
            cy: 50.0,
            radius: 26.0,
        };
        let warped = bulge(&mask, head, 1.6, 1.8, 128);
        let area = |p: &Plane, rows: std::ops::Range<usize>| -> f32 {
            rows.flat_map(|y| (0..128).map(move |x| (x, y)))
                .map(|(x, y)| p.get(x, y))
                .sum()
        };
        assert!(
            area(&warped, 0..85) > area(&mask, 0..85) * 1.3,
            "bigger head"
        );
        assert_eq!(warped.get(5, 125), mask.get(5, 125), "far corner untouched");
    }
}
