//! The stylizer on the drawn test fixture (`tests/fixtures/selfie.jpg`), at a quarter of
//! the output size: debug builds run the full size slowly, and what is asserted here
//! does not depend on the size.

use std::sync::LazyLock;

use super::*;
use crate::generation::imaging::inspect::decode_selfie;

const SIZE: u32 = 256;

static FIXTURE: LazyLock<DynamicImage> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/selfie.jpg");
    decode_selfie(&std::fs::read(path).unwrap()).unwrap()
});

static RENDERS: LazyLock<Vec<Stylized>> = LazyLock::new(|| {
    Style::ALL
        .iter()
        .map(|style| stylize_to_size(&FIXTURE, *style, SIZE))
        .collect()
});

fn render(style: Style) -> &'static Stylized {
    &RENDERS[Style::ALL.iter().position(|s| *s == style).unwrap()]
}

/// Mean absolute difference of two same-sized images' colours, 0–255.
fn difference(a: &RgbaImage, b: &RgbaImage) -> f64 {
    let total: u64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| {
            (0..3)
                .map(|c| u64::from(p.0[c].abs_diff(q.0[c])))
                .sum::<u64>()
        })
        .sum();
    total as f64 / (3 * a.width() * a.height()) as f64
}

#[test]
fn the_mask_covers_the_person_and_not_the_corners() {
    let photo = to_planes(&centred_square(&FIXTURE.to_rgb8(), 256));
    let mask = mask::subject_mask(&photo);
    let at = |x: f32, y: f32| mask.get((x * 256.0) as usize, (y * 256.0) as usize);
    for (x, y, what) in [(0.5, 0.4, "face"), (0.5, 0.9, "shirt"), (0.5, 0.15, "hair")] {
        assert!(at(x, y) > 0.99, "{what}: {}", at(x, y));
    }
    for (x, y) in [(0.02, 0.02), (0.98, 0.02), (0.05, 0.5), (0.95, 0.5)] {
        assert!(at(x, y) < 0.01, "background at {x},{y}: {}", at(x, y));
    }
}

/// A small face high and left of centre under big hair that reaches the top edge, a
/// light wall around it, a suit below (the astronaut portrait, simplified): the hair is the person, the wall beside the head
/// is not.
#[test]
fn the_mask_keeps_big_hair_above_an_off_centre_face() {
    let side = 256;
    let (face, hair) = ((0.42, 0.26, 0.1, 0.12), (0.42, 0.15, 0.15, 0.14));
    let inside = |(cx, cy, rx, ry): (f32, f32, f32, f32), x: f32, y: f32| {
        ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) < 1.0
    };
    let colour = |x: f32, y: f32| -> [f32; 3] {
        if inside(face, x, y) {
            [0.89, 0.74, 0.64]
        } else if inside(hair, x, y) && y < 0.24 {
            [0.55, 0.42, 0.25]
        } else if y > 0.42 && (x - 0.45).abs() < 0.42 {
            [0.9, 0.4, 0.15]
        } else if y > 0.3 && (x - 0.42).abs() < 0.06 {
            // A dark turtleneck joins the face to the suit.
            [0.08, 0.08, 0.1]
        } else {
            // The wall: lit behind the head, darker away from it.
            let light = 0.85 - 0.25 * ((x - 0.42).powi(2) + (y - 0.25).powi(2)).sqrt();
            [light, light * 0.98, light * 0.96]
        }
    };
    let photo: Rgb = [0, 1, 2].map(|c| {
        Plane::from_fn(side, side, |x, y| {
            colour(x as f32 / side as f32, y as f32 / side as f32)[c]
        })
    });
    let mask = mask::subject_mask(&photo);
    let at = |x: f32, y: f32| mask.get((x * side as f32) as usize, (y * side as f32) as usize);
    for (x, y, what) in [
        (0.42, 0.04, "top of the hair"),
        (0.32, 0.1, "hair at the side"),
        (0.42, 0.26, "face"),
        (0.45, 0.7, "suit"),
    ] {
        assert!(at(x, y) > 0.9, "{what}: {}", at(x, y));
    }
    for (x, y, what) in [
        (0.66, 0.2, "wall right of the head"),
        (0.2, 0.25, "wall left of the head"),
        (0.9, 0.05, "top right corner"),
    ] {
        assert!(at(x, y) < 0.1, "{what}: {}", at(x, y));
    }
}

#[test]
fn avatars_are_square_opaque_and_deterministic() {
    for style in Style::ALL {
        let made = render(style);
        assert_eq!(made.avatar.dimensions(), (SIZE, SIZE));
        assert_eq!(made.subject.dimensions(), (SIZE, SIZE));
        assert!(
            made.avatar.pixels().all(|p| p.0[3] == 255),
            "{style}: opaque"
        );
    }
    let again = stylize_to_size(&FIXTURE, Style::Watercolor, SIZE);
    assert_eq!(again.avatar, render(Style::Watercolor).avatar);
    assert_eq!(again.subject, render(Style::Watercolor).subject);
}

#[test]
fn the_styles_differ_from_each_other_and_from_the_photo() {
    let photo = DynamicImage::ImageRgb8(centred_square(&FIXTURE.to_rgb8(), SIZE)).into_rgba8();
    for (i, a) in Style::ALL.iter().enumerate() {
        let from_photo = difference(&render(*a).avatar, &photo);
        assert!(from_photo > 12.0, "{a} vs the photo: {from_photo:.1}");
        for b in &Style::ALL[i + 1..] {
            let apart = difference(&render(*a).avatar, &render(*b).avatar);
            assert!(apart > 12.0, "{a} vs {b}: {apart:.1}");
        }
    }
}

/// The chibi head is bigger: more of the upper half of the cut-out is the person.
#[test]
fn chibi_has_a_bigger_head() {
    let head_area = |style: Style| -> u32 {
        let subject = &render(style).subject;
        (0..SIZE / 2)
            .flat_map(|y| (0..SIZE).map(move |x| (x, y)))
            .filter(|(x, y)| subject.get_pixel(*x, *y).0[3] > 128)
            .count() as u32
    };
    let (anime, chibi) = (head_area(Style::Anime), head_area(Style::Chibi));
    assert!(
        chibi as f32 > anime as f32 * 1.3,
        "chibi {chibi} vs anime {anime}"
    );
}

/// No seam: from one row of the background to the next, colours change gently.
#[test]
fn backgrounds_have_no_seam() {
    for style in Style::ALL {
        let avatar = &render(style).avatar;
        // The mean of the darker half of the row: a seam runs across the whole strip,
        // while a polka dot (lighter, under half the strip) is a pattern, not a seam.
        let row_mean = |y: u32, x0: u32, x1: u32| -> [f64; 3] {
            [0, 1, 2].map(|c| {
                let mut values: Vec<u8> = (x0..x1).map(|x| avatar.get_pixel(x, y).0[c]).collect();
                values.sort_unstable();
                let darker = &values[..values.len() / 2];
                darker.iter().map(|v| f64::from(*v)).sum::<f64>() / darker.len() as f64
            })
        };
        // The strips beside the head, top to bottom of the head.
        for (x0, x1) in [(0, SIZE / 8), (SIZE * 7 / 8, SIZE)] {
            for y in 1..SIZE * 2 / 3 {
                let (above, here) = (row_mean(y - 1, x0, x1), row_mean(y, x0, x1));
                let step = (0..3)
                    .map(|c| (above[c] - here[c]).abs())
                    .fold(0.0, f64::max);
                assert!(
                    step < 4.0,
                    "{style}: a step of {step:.1} at row {y}, x {x0}..{x1}"
                );
            }
        }
    }
}

#[test]
fn the_cut_out_is_the_person_with_a_soft_edge() {
    for style in Style::ALL {
        let subject = &render(style).subject;
        let alpha = |x: u32, y: u32| subject.get_pixel(x, y).0[3];
        assert_eq!(alpha(SIZE / 2, SIZE * 2 / 5), 255, "{style}: face");
        assert_eq!(alpha(SIZE / 2, SIZE - 2), 255, "{style}: chest");
        for (x, y) in [(2, 2), (SIZE - 3, 2), (4, SIZE / 2), (SIZE - 5, SIZE / 2)] {
            assert_eq!(alpha(x, y), 0, "{style}: background at {x},{y}");
        }
        let partial = subject
            .pixels()
            .filter(|p| p.0[3] > 0 && p.0[3] < 255)
            .count();
        let opaque = subject.pixels().filter(|p| p.0[3] == 255).count();
        // An anti-aliased outline: about one partial pixel per outline pixel, so a few
        // hundred at this size, and far fewer than the opaque ones.
        assert!(
            partial > 150 && partial * 20 < opaque,
            "{style}: {partial} partial pixels"
        );
    }
}

/// The pixels just inside the cut-out take the person's colours, not the old
/// background's: no halo between the outline and a sticker's white border.
#[test]
fn the_cut_out_edge_has_no_background_halo() {
    let photo = centred_square(&FIXTURE.to_rgb8(), SIZE);
    let subject = &render(Style::Watercolor).subject;
    // On the row of the cheeks, walk in from the left to the first opaque pixel.
    let y = SIZE * 2 / 5;
    let edge = (0..SIZE)
        .find(|x| subject.get_pixel(*x, y).0[3] == 255)
        .unwrap();
    let background = photo.get_pixel(3, y).0;
    let inside = photo.get_pixel(edge + 10, y).0;
    let at_edge = subject.get_pixel(edge, y).0;
    let distance =
        |a: [u8; 3], b: [u8; 4]| (0..3).map(|c| i32::from(a[c].abs_diff(b[c]))).sum::<i32>();
    assert!(
        distance(inside, at_edge) < distance(background, at_edge),
        "edge {at_edge:?} is nearer the background {background:?} than the person {inside:?}"
    );
}

/// The speech bubble is drawn beside the head: nothing of the person above the chin
/// (hair, forehead, eyes) is painted over.
#[test]
fn the_speech_bubble_leaves_the_head_uncovered() {
    let quote = crate::generation::imaging::Quote::parse("こんにちは、世界！ I'm Yui.").unwrap();
    let small: Vec<Plane> = to_planes(&centred_square(&FIXTURE.to_rgb8(), 128))
        .into_iter()
        .collect();
    let face = face::find_face(&small).expect("the fixture's face is found");
    let chin = ((face.cy + face.ry) * SIZE as f32) as u32;
    for style in Style::ALL {
        let made = render(style);
        let bubbled =
            crate::generation::imaging::add_speech_bubble(&made.avatar, &made.subject, &quote);
        let covered = (0..chin)
            .flat_map(|y| (0..SIZE).map(move |x| (x, y)))
            .filter(|(x, y)| made.subject.get_pixel(*x, *y).0[3] > 0)
            .filter(|(x, y)| bubbled.get_pixel(*x, *y) != made.avatar.get_pixel(*x, *y))
            .count();
        assert_eq!(
            covered, 0,
            "{style}: {covered} pixels of the head painted over"
        );
        assert_ne!(bubbled, made.avatar, "{style}: a bubble is drawn");
    }
}

#[test]
fn transparent_selfies_are_shown_over_white() {
    let clear = DynamicImage::ImageRgba8(RgbaImage::new(64, 64));
    assert!(opaque_rgb(&clear).pixels().all(|p| p.0 == [255, 255, 255]));
}

#[test]
fn short_specks_are_not_lines() {
    let mut lines = Plane::filled(40, 40, 0.0);
    for x in 5..35 {
        lines.set(x, 10, 1.0);
        lines.set(x, 11, 0.2);
    }
    lines.set(20, 30, 1.0);
    lines.set(21, 30, 1.0);
    lines.set(22, 30, 0.2);
    let kept = drop_short_lines(&lines, 12);
    assert_eq!(kept.get(20, 10), 1.0);
    assert_eq!(kept.get(20, 11), 0.2, "a line's fringe stays");
    assert_eq!(kept.get(20, 30), 0.0);
    assert_eq!(kept.get(22, 30), 0.0, "a speck's fringe goes");
}

#[test]
fn distances_come_back_from_a_blurred_edge() {
    let sigma = 4.0;
    assert!(inward_distance(0.5, sigma).abs() < 1e-6);
    // A blurred step edge is the normal curve: Φ(1) = 0.841 one sigma inside.
    assert!((inward_distance(0.841, sigma) - sigma).abs() < 0.3);
    assert!((inward_distance(0.159, sigma) + sigma).abs() < 0.3);
}

#[test]
fn odd_inputs_do_not_panic() {
    for (width, height) in [(1, 1), (3, 200), (200, 3), (40, 40)] {
        let tiny = DynamicImage::ImageRgb8(RgbImage::from_pixel(
            width,
            height,
            RgbPixel([90, 120, 200]),
        ));
        for style in Style::ALL {
            let made = stylize_to_size(&tiny, style, 64);
            assert_eq!(made.avatar.dimensions(), (64, 64));
        }
    }
}
