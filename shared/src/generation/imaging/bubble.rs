//! The speech-bubble add-on: a short quote in a white bubble above the subject, set in a
//! bundled font that covers Japanese (BIZ UDPGothic Bold, SIL OFL 1.1; see
//! `shared/assets/fonts/PROVENANCE.md`).

use std::fmt;
use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::RgbaImage;

use super::compose::paint_over;

pub use quote_rules::{MAX_QUOTE_CHARS, QuoteError};

pub(super) static FONT_BYTES: &[u8] =
    include_bytes!("../../../assets/fonts/BIZUDPGothic-Bold-subset.ttf");

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    // The file is compiled in and a unit test parses it, so this cannot fail at run time.
    FontRef::try_from_slice(FONT_BYTES).expect("the bundled font is a valid TrueType file")
});

/// A quote that can go in a speech bubble: trimmed, 1 to 80 characters, printable, and
/// drawable by the bundled font.
///
/// `Debug` does not print the text (people's own words stay out of logs).
#[derive(Clone, PartialEq, Eq)]
pub struct Quote(String);

impl Quote {
    /// The rules of `quote_rules`, the same code the web app runs as WebAssembly.
    pub fn parse(text: &str) -> Result<Self, QuoteError> {
        quote_rules::check(text).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Quote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quote(<{} characters>)", self.0.chars().count())
    }
}

const TEXT_COLOUR: [u8; 3] = [24, 24, 24];
const OUTLINE_COLOUR: [u8; 3] = [16, 16, 16];
const BUBBLE_COLOUR: [u8; 3] = [255, 255, 255];

/// Where the bubble goes and how large it may grow, as fractions of the image: the
/// top-left area, clear of the face in a centred portrait.
const BUBBLE_LEFT: f32 = 0.04;
const BUBBLE_TOP: f32 = 0.035;
const MAX_BUBBLE_WIDTH: f32 = 0.66;
const MAX_BUBBLE_HEIGHT: f32 = 0.30;
/// Font sizes (line height in pixels) as fractions of the image's shorter side.
const MAX_FONT: f32 = 0.064;
const MIN_FONT: f32 = 0.026;
/// Font sizes tried, evenly spaced from the largest down to the smallest.
const FONT_STEPS: u32 = 16;
const LINE_SPACING: f32 = 1.2;
/// Space between the text and the outline, in font sizes.
const PADDING_X: f32 = 0.8;
const PADDING_Y: f32 = 0.55;
/// Outline width as a fraction of the shorter side, and never thinner than this.
const OUTLINE_WIDTH: f32 = 0.006;
const MIN_OUTLINE_PX: f32 = 2.0;
/// The point the tail aims at: roughly the mouth of a centred portrait.
const TAIL_TARGET: (f32, f32) = (0.5, 0.45);
const TAIL_LENGTH: f32 = 0.075;

/// Space kept between the bubble and the person, as a fraction of the shorter side.
const PERSON_GAP: f32 = 0.02;

/// `avatar` with a speech bubble holding `quote` in its upper part, the tail pointing at
/// the subject. The quote is wrapped to the bubble and set as large as fits.
///
/// `subject` is the person cut out on transparency, at the avatar's size: the bubble goes
/// in the top corner beside their head with the most room, clear of the face. When there
/// is no such room (or no cut-out of that size), it goes top left, over whatever is there.
pub fn add_speech_bubble(avatar: &RgbaImage, subject: &RgbaImage, quote: &Quote) -> RgbaImage {
    let (width, height) = avatar.dimensions();
    let person = (subject.dimensions() == (width, height))
        .then(|| Person::of(subject))
        .flatten();
    let layout = person
        .and_then(|person| BubbleLayout::fit_beside(width, height, quote.as_str(), &person))
        .unwrap_or_else(|| BubbleLayout::fit(width, height, quote.as_str()));
    if !layout.fits {
        // Quote::parse's length limit should make this impossible; the text is still
        // drawn, at the smallest size, and may run past the bubble.
        tracing::warn!(
            characters = quote.as_str().chars().count(),
            width = avatar.width(),
            "speech bubble text does not fit at the smallest font size"
        );
    }
    let mut canvas = avatar.clone();
    draw_bubble(&mut canvas, &layout.shape);
    draw_text(&mut canvas, &layout);
    canvas
}

/// An axis-aligned rectangle in pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

impl Rect {
    fn width(&self) -> f32 {
        self.right - self.left
    }

    fn height(&self) -> f32 {
        self.bottom - self.top
    }
}

/// Which top corner the bubble sits in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
}

/// Where the person is, from the alpha of their cut-out: on each row, the leftmost and
/// rightmost pixel that is mostly opaque; and where their mouth roughly is.
#[derive(Debug, Clone)]
struct Person {
    rows: Vec<Option<(f32, f32)>>,
    mouth: (f32, f32),
}

impl Person {
    /// `None` when the cut-out is empty.
    fn of(subject: &RgbaImage) -> Option<Self> {
        let (width, height) = subject.dimensions();
        let rows: Vec<Option<(f32, f32)>> = (0..height)
            .map(|y| {
                let opaque = |x: &u32| subject.get_pixel(*x, y).0[3] >= 128;
                let left = (0..width).find(opaque)?;
                let right = (0..width).rev().find(opaque)?;
                Some((left as f32, right as f32 + 1.0))
            })
            .collect();
        let top = rows.iter().position(Option::is_some)?;
        // A portrait's mouth is about a fifth of the side below the top of the hair,
        // in the middle of the silhouette there.
        let unit = width.min(height) as f32;
        let mouth_row = (top + (0.2 * unit) as usize).min(height as usize - 1);
        let (left, right) = rows[mouth_row].or(rows[top])?;
        Some(Self {
            rows,
            mouth: ((left + right) / 2.0, mouth_row as f32),
        })
    }

    /// Whether (x, y) is within `gap` of the person, looking along the row only.
    fn near(&self, x: f32, y: f32, gap: f32) -> bool {
        let row = y.max(0.0) as usize;
        self.rows
            .get(row)
            .copied()
            .flatten()
            .is_some_and(|(left, right)| x > left - gap && x < right + gap)
    }

    /// The tail's tip moved back toward its base until the tail keeps half the gap from
    /// the person: it points at them without drawing over their hair or face.
    fn stop_short(&self, a: (f32, f32), b: (f32, f32), tip: (f32, f32), gap: f32) -> (f32, f32) {
        let base = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let steps = (tip.0 - base.0).hypot(tip.1 - base.1).ceil().max(1.0) as usize;
        let at = |t: f32| (base.0 + (tip.0 - base.0) * t, base.1 + (tip.1 - base.1) * t);
        // The tail's edges run from the base's ends to the tip: check those too.
        let touches = |t: f32| {
            let point = at(t);
            let lerp = |p: (f32, f32)| (p.0 + (tip.0 - p.0) * t, p.1 + (tip.1 - p.1) * t);
            [point, lerp(a), lerp(b)]
                .iter()
                .any(|p| self.near(p.0, p.1, gap / 2.0))
        };
        let last_clear = (1..=steps)
            .map(|i| i as f32 / steps as f32)
            .take_while(|t| !touches(*t))
            .last()
            .unwrap_or(0.0);
        at(last_clear)
    }

    /// The width free of the person on `side` over the rows `top..bottom`, from the
    /// bubble's margin to the person's edge less a gap.
    fn room(&self, side: Side, top: f32, bottom: f32, width: f32, gap: f32) -> f32 {
        let margin = BUBBLE_LEFT * width;
        let rows = (top.max(0.0) as usize)..(bottom.ceil() as usize).min(self.rows.len());
        self.rows[rows]
            .iter()
            .flatten()
            .map(|(left, right)| match side {
                Side::Left => left - gap - margin,
                Side::Right => width - margin - (right + gap),
            })
            .fold(width - 2.0 * margin, f32::min)
            .max(0.0)
    }
}

/// The bubble's outline: a rounded rectangle joined to a triangular tail.
#[derive(Debug, Clone, Copy)]
struct BubbleShape {
    body: Rect,
    corner_radius: f32,
    tail: [(f32, f32); 3],
    outline_width: f32,
}

/// Everything needed to draw one bubble.
#[derive(Debug, Clone)]
struct BubbleLayout {
    shape: BubbleShape,
    font_px: f32,
    lines: Vec<String>,
    /// Whether the text fits at `font_px`; false only past the quote length limit.
    fits: bool,
}

impl BubbleLayout {
    /// Finds the largest font size at which the wrapped quote fits the largest bubble
    /// allowed, and sizes the bubble around the text.
    fn fit(width: u32, height: u32, text: &str) -> Self {
        let (width, height) = (width as f32, height as f32);
        let unit = width.min(height);
        let (max_font, min_font) = (MAX_FONT * unit, MIN_FONT * unit);
        let sizes = (0..=FONT_STEPS)
            .map(|step| max_font - (max_font - min_font) * step as f32 / FONT_STEPS as f32);
        let mut chosen = None;
        for font_px in sizes {
            let lines = wrap_lines(
                text,
                MAX_BUBBLE_WIDTH * width - 2.0 * PADDING_X * font_px,
                |line| text_width(line, font_px),
            );
            let fits = fits_bubble(&lines, font_px, MAX_BUBBLE_WIDTH * width, height);
            chosen = Some((font_px, lines, fits));
            if fits {
                break;
            }
        }
        // The range always has at least one size; an empty image gets an empty layout.
        let (font_px, lines, fits) = chosen.unwrap_or((min_font, Vec::new(), false));
        let target = (TAIL_TARGET.0 * width, TAIL_TARGET.1 * height);
        Self {
            shape: bubble_shape(width, height, &lines, font_px, Side::Left, target),
            font_px,
            lines,
            fits,
        }
    }

    /// The largest font size at which the quote fits in a top corner without touching
    /// the person, on whichever side that size fits (the roomier side when both do);
    /// `None` when no size fits either side.
    fn fit_beside(width: u32, height: u32, text: &str, person: &Person) -> Option<Self> {
        let (width, height) = (width as f32, height as f32);
        let unit = width.min(height);
        let (max_font, min_font) = (MAX_FONT * unit, MIN_FONT * unit);
        let gap = PERSON_GAP * unit;
        let top = BUBBLE_TOP * height;
        for step in 0..=FONT_STEPS {
            let font_px = max_font - (max_font - min_font) * step as f32 / FONT_STEPS as f32;
            let fitted = [Side::Left, Side::Right].map(|side| {
                wrap_beside(text, font_px, width, height, |bottom| {
                    person.room(side, top, bottom, width, gap)
                })
                .map(|(lines, room)| (side, lines, room))
            });
            let best = fitted
                .into_iter()
                .flatten()
                .max_by(|a, b| a.2.total_cmp(&b.2));
            if let Some((side, lines, _)) = best {
                let mut shape = bubble_shape(width, height, &lines, font_px, side, person.mouth);
                shape.tail[2] = person.stop_short(shape.tail[0], shape.tail[1], shape.tail[2], gap);
                return Some(Self {
                    shape,
                    font_px,
                    lines,
                    fits: true,
                });
            }
        }
        None
    }
}

/// The quote wrapped at `font_px` to fit both the largest bubble allowed and the room
/// beside the person (`room_to` gives it down to a bubble bottom), with that room.
/// Narrower lines make a taller bubble, which may meet wider shoulders: a few rounds
/// of wrapping to the room left settle it.
fn wrap_beside(
    text: &str,
    font_px: f32,
    width: f32,
    height: f32,
    room_to: impl Fn(f32) -> f32,
) -> Option<(Vec<String>, f32)> {
    let mut max_width = MAX_BUBBLE_WIDTH * width;
    for _ in 0..4 {
        let lines = wrap_lines(text, max_width - 2.0 * PADDING_X * font_px, |line| {
            text_width(line, font_px)
        });
        if !fits_bubble(&lines, font_px, max_width, height) {
            return None;
        }
        let (body_width, body_height) = body_size(&lines, font_px);
        let room = room_to(BUBBLE_TOP * height + body_height);
        if body_width <= room {
            return Some((lines, room));
        }
        if room < 4.0 * font_px {
            return None;
        }
        max_width = room;
    }
    None
}

/// Whether `lines` set at `font_px` fit a bubble at most `max_width` wide and as tall as
/// allowed.
fn fits_bubble(lines: &[String], font_px: f32, max_width: f32, height: f32) -> bool {
    let text_height = lines.len() as f32 * LINE_SPACING * font_px;
    text_height + 2.0 * PADDING_Y * font_px <= MAX_BUBBLE_HEIGHT * height
        && lines
            .iter()
            .all(|line| text_width(line, font_px) + 2.0 * PADDING_X * font_px <= max_width)
}

/// The bubble body's width and height around `lines` set at `font_px`.
fn body_size(lines: &[String], font_px: f32) -> (f32, f32) {
    let widest = lines
        .iter()
        .map(|line| text_width(line, font_px))
        .fold(0.0, f32::max);
    // Short quotes still get a bubble wide enough to carry its tail.
    let body_width = (widest + 2.0 * PADDING_X * font_px).max(4.0 * font_px);
    let body_height = lines.len() as f32 * LINE_SPACING * font_px + 2.0 * PADDING_Y * font_px;
    (body_width, body_height)
}

/// The bubble around `lines` set at `font_px`, anchored at the top corner on `side`, its
/// tail aimed at `target`.
fn bubble_shape(
    width: f32,
    height: f32,
    lines: &[String],
    font_px: f32,
    side: Side,
    target: (f32, f32),
) -> BubbleShape {
    let unit = width.min(height);
    let (body_width, body_height) = body_size(lines, font_px);
    let left = match side {
        Side::Left => BUBBLE_LEFT * width,
        Side::Right => width - BUBBLE_LEFT * width - body_width,
    };
    let body = Rect {
        left,
        top: BUBBLE_TOP * height,
        right: left + body_width,
        bottom: BUBBLE_TOP * height + body_height,
    };
    let corner_radius = (0.45 * body_width.min(body_height)).min(1.4 * font_px);
    let outline_width = (OUTLINE_WIDTH * unit).max(MIN_OUTLINE_PX);
    BubbleShape {
        body,
        corner_radius,
        tail: tail_triangle(&body, corner_radius, outline_width, unit, side, target),
        outline_width,
    }
}

/// A triangle whose base sits on the bubble's bottom edge (inside it, so the two shapes
/// merge into one outline) and whose tip points toward the subject's mouth.
fn tail_triangle(
    body: &Rect,
    corner_radius: f32,
    outline_width: f32,
    unit: f32,
    side: Side,
    (target_x, target_y): (f32, f32),
) -> [(f32, f32); 3] {
    let straight = (body.left + corner_radius, body.right - corner_radius);
    let half_base = (0.03 * unit).min((straight.1 - straight.0) / 2.0).max(1.0);
    // Toward the end nearer the person.
    let along = match side {
        Side::Left => 0.7,
        Side::Right => 0.3,
    };
    let base_x = (body.left + along * body.width()).clamp(
        straight.0 + half_base,
        (straight.1 - half_base).max(straight.0 + half_base),
    );
    let base_y = body.bottom - 2.0 * outline_width;
    let (dx, dy) = (target_x - base_x, (target_y - base_y).max(1.0));
    let length = (dx * dx + dy * dy).sqrt();
    let reach = TAIL_LENGTH * unit + 2.0 * outline_width;
    let tip = (base_x + dx / length * reach, base_y + dy / length * reach);
    [
        (base_x - half_base, base_y),
        (base_x + half_base, base_y),
        tip,
    ]
}

/// Paints the bubble: a dark outline band and a white inside, anti-aliased, from the
/// signed distance to the union of the rounded body and the tail.
fn draw_bubble(canvas: &mut RgbaImage, shape: &BubbleShape) {
    let bounds = shape_bounds(shape, canvas.width(), canvas.height());
    for y in bounds.1..bounds.3 {
        for x in bounds.0..bounds.2 {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let distance = rounded_rect_distance(&shape.body, shape.corner_radius, px, py)
                .min(triangle_distance(&shape.tail, px, py));
            let pixel = canvas.get_pixel_mut(x, y);
            paint_over(pixel, OUTLINE_COLOUR, 0.5 - distance);
            paint_over(pixel, BUBBLE_COLOUR, 0.5 - (distance + shape.outline_width));
        }
    }
}

/// The pixel range (x0, y0, x1, y1) the shape can touch, clipped to the canvas.
fn shape_bounds(shape: &BubbleShape, width: u32, height: u32) -> (u32, u32, u32, u32) {
    let xs = shape.tail.iter().map(|p| p.0);
    let ys = shape.tail.iter().map(|p| p.1);
    let left = xs.clone().fold(shape.body.left, f32::min) - 2.0;
    let right = xs.fold(shape.body.right, f32::max) + 2.0;
    let top = ys.clone().fold(shape.body.top, f32::min) - 2.0;
    let bottom = ys.fold(shape.body.bottom, f32::max) + 2.0;
    let clip = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    (
        clip(left, width),
        clip(top, height),
        clip(right.ceil(), width),
        clip(bottom.ceil(), height),
    )
}

/// Signed distance from (x, y) to a rectangle with rounded corners (negative inside).
fn rounded_rect_distance(rect: &Rect, radius: f32, x: f32, y: f32) -> f32 {
    let centre = (
        (rect.left + rect.right) / 2.0,
        (rect.top + rect.bottom) / 2.0,
    );
    let half = (rect.width() / 2.0 - radius, rect.height() / 2.0 - radius);
    let q = ((x - centre.0).abs() - half.0, (y - centre.1).abs() - half.1);
    let outside = (q.0.max(0.0).powi(2) + q.1.max(0.0).powi(2)).sqrt();
    outside + q.0.max(q.1).min(0.0) - radius
}

/// Signed distance from (x, y) to a triangle (negative inside).
fn triangle_distance(corners: &[(f32, f32); 3], x: f32, y: f32) -> f32 {
    let edges = [
        (corners[0], corners[1]),
        (corners[1], corners[2]),
        (corners[2], corners[0]),
    ];
    let distance = edges
        .iter()
        .map(|(a, b)| segment_distance(*a, *b, x, y))
        .fold(f32::INFINITY, f32::min);
    let sides = edges.map(|(a, b)| (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0));
    let inside = sides.iter().all(|s| *s >= 0.0) || sides.iter().all(|s| *s <= 0.0);
    if inside { -distance } else { distance }
}

fn segment_distance(a: (f32, f32), b: (f32, f32), x: f32, y: f32) -> f32 {
    let (abx, aby) = (b.0 - a.0, b.1 - a.1);
    let (apx, apy) = (x - a.0, y - a.1);
    let length_squared = abx * abx + aby * aby;
    let t = if length_squared > 0.0 {
        ((apx * abx + apy * aby) / length_squared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((apx - t * abx).powi(2) + (apy - t * aby).powi(2)).sqrt()
}

/// Sets the lines centred in the bubble.
fn draw_text(canvas: &mut RgbaImage, layout: &BubbleLayout) {
    let scale = PxScale::from(layout.font_px);
    let font = FONT.as_scaled(scale);
    let body = &layout.shape.body;
    let centre_x = (body.left + body.right) / 2.0;
    let leading = (LINE_SPACING - 1.0) * layout.font_px / 2.0;
    let first_top = body.top + PADDING_Y * layout.font_px;
    for (index, line) in layout.lines.iter().enumerate() {
        let baseline =
            first_top + index as f32 * LINE_SPACING * layout.font_px + leading + font.ascent();
        let mut x = centre_x - text_width(line, layout.font_px) / 2.0;
        for c in line.chars() {
            let id = font.glyph_id(c);
            let glyph = id.with_scale_and_position(scale, point(x, baseline));
            x += font.h_advance(id);
            if let Some(outlined) = FONT.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let px = bounds.min.x as i64 + i64::from(gx);
                    let py = bounds.min.y as i64 + i64::from(gy);
                    if let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py))
                        && px < canvas.width()
                        && py < canvas.height()
                    {
                        paint_over(canvas.get_pixel_mut(px, py), TEXT_COLOUR, coverage);
                    }
                });
            }
        }
    }
}

/// The advance width of `text` set at `font_px` (the font has no kerning table).
fn text_width(text: &str, font_px: f32) -> f32 {
    let font = FONT.as_scaled(PxScale::from(font_px));
    text.chars().map(|c| font.h_advance(font.glyph_id(c))).sum()
}

/// Breaks `text` into lines no wider than `max_width` as measured by `width_of`: at
/// spaces between words, between any two Japanese characters, and inside a word only
/// when the word alone is too wide. Japanese line-breaking rules (kinsoku) keep closing
/// punctuation and small kana off the start of a line and opening brackets off its end.
fn wrap_lines(text: &str, max_width: f32, width_of: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for segment in break_segments(text) {
        let candidate = format!("{line}{segment}");
        if width_of(candidate.trim_end()) <= max_width {
            line = candidate;
            continue;
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
        line = segment.trim_start().to_owned();
        if width_of(line.trim_end()) > max_width {
            line = split_overlong(&line, max_width, &width_of, &mut lines);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Breaks a segment wider than a whole line between any characters; pushes the full
/// lines and returns the rest.
fn split_overlong(
    segment: &str,
    max_width: f32,
    width_of: &impl Fn(&str) -> f32,
    lines: &mut Vec<String>,
) -> String {
    let mut line = String::new();
    for c in segment.chars() {
        line.push(c);
        if width_of(line.trim_end()) > max_width && line.chars().count() > 1 {
            line.pop();
            lines.push(line.trim_end().to_owned());
            line = c.to_string();
        }
    }
    line
}

/// `text` cut at every allowed line break; spaces stay with the word before them.
fn break_segments(text: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    for (index, c) in text.char_indices() {
        if let Some(before) = previous
            && can_break_between(before, c)
        {
            segments.push(&text[start..index]);
            start = index;
        }
        previous = Some(c);
    }
    if start < text.len() {
        segments.push(&text[start..]);
    }
    segments
}

fn can_break_between(before: char, after: char) -> bool {
    if after.is_whitespace() {
        return false;
    }
    if before.is_whitespace() {
        return true;
    }
    if cannot_start_line(after) || cannot_end_line(before) {
        return false;
    }
    is_cjk(before) || is_cjk(after) || (before == '-' && after.is_alphanumeric())
}

/// Japanese (and Latin) closing punctuation, iteration marks, the long vowel mark and
/// small kana: kinsoku says none of them may begin a line.
fn cannot_start_line(c: char) -> bool {
    "、。，．・：；？！゛゜ヽヾゝゞ々〻ー‐゠–〜～…‥’”）〕］｝〉》」』】〙〗〟｠»\
     ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ\
     ｡｣､･ｰｧｨｩｪｫｬｭｮｯ!),.:;?]}%"
        .contains(c)
}

/// Opening brackets and quotes: kinsoku says none of them may end a line.
fn cannot_end_line(c: char) -> bool {
    "‘“（〔［｛〈《「『【〘〖〝｟«｢([{".contains(c)
}

/// Characters between which Japanese text may break: kana, kanji, CJK punctuation and
/// full-width forms.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{30FF}'
        | '\u{31F0}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF00}'..='\u{FFEF}'
        | '\u{20000}'..='\u{2FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    const EXAMPLE: &str = "こんにちは、世界！ I'm Yui.";

    /// Every character one unit wide, so wrapping tests read as character counts.
    fn by_chars(text: &str) -> f32 {
        text.chars().count() as f32
    }

    #[test]
    fn the_bundled_font_parses_and_covers_the_example() {
        assert!(FontRef::try_from_slice(FONT_BYTES).is_ok());
        let quote = Quote::parse(EXAMPLE).unwrap();
        for c in quote.as_str().chars() {
            let id = FONT.glyph_id(c);
            assert_ne!(id.0, 0, "{c:?} has a glyph");
            let outline = FONT.outline_glyph(id.with_scale(40.0));
            assert_eq!(
                outline.is_some(),
                !c.is_whitespace(),
                "{c:?} has an outline"
            );
        }
    }

    // The rules themselves (trimming, length, characters) are tested with their shared
    // cases in crates/quote-rules.

    #[test]
    fn debug_hides_the_text() {
        let quote = Quote::parse("my secret").unwrap();
        assert_eq!(format!("{quote:?}"), "Quote(<9 characters>)");
    }

    #[test]
    fn latin_wraps_at_spaces() {
        let lines = wrap_lines("the quick brown fox jumps over", 10.0, by_chars);
        assert_eq!(lines, ["the quick", "brown fox", "jumps over"]);
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut() {
        let lines = wrap_lines("hi supercalifragilistic ok", 8.0, by_chars);
        assert_eq!(lines, ["hi", "supercal", "ifragili", "stic ok"]);
    }

    #[test]
    fn japanese_wraps_between_characters() {
        let lines = wrap_lines("あいうえおかきくけこさしす", 5.0, by_chars);
        assert_eq!(lines, ["あいうえお", "かきくけこ", "さしす"]);
    }

    #[test]
    fn kinsoku_keeps_closing_marks_off_line_starts_and_openings_off_line_ends() {
        // A plain break after 4 characters would start line two with "、".
        let lines = wrap_lines("あいうえ、おかきく。", 4.0, by_chars);
        assert_eq!(lines, ["あいう", "え、おか", "きく。"]);
        // Small kana and the long vowel mark stay with the kana before them.
        let lines = wrap_lines("ちょっとまってー", 4.0, by_chars);
        assert_eq!(lines, ["ちょっと", "まってー"]);
        // An opening bracket moves to the next line with what it opens.
        let lines = wrap_lines("あいう「えお」", 4.0, by_chars);
        assert_eq!(lines, ["あいう", "「えお」"]);
    }

    #[test]
    fn mixed_text_breaks_at_spaces_and_between_kana() {
        let lines = wrap_lines(EXAMPLE, 9.0, by_chars);
        assert_eq!(lines, ["こんにちは、世界！", "I'm Yui."]);
        assert_eq!(lines.concat().replace(' ', ""), EXAMPLE.replace(' ', ""));
    }

    #[test]
    fn the_example_fits_large_in_the_upper_part() {
        let layout = BubbleLayout::fit(1024, 1024, EXAMPLE);
        assert!(layout.fits);
        assert!(layout.font_px > 40.0, "{}", layout.font_px);
        assert_eq!(
            layout.lines.concat().replace(' ', ""),
            EXAMPLE.replace(' ', "")
        );
        let lowest = layout
            .shape
            .tail
            .iter()
            .map(|p| p.1)
            .fold(layout.shape.body.bottom, f32::max);
        assert!(lowest < 512.0, "{lowest}");
    }

    #[test]
    fn the_longest_quotes_fit_at_the_smallest_size_or_above() {
        let worst = [
            "W".repeat(80),
            "漢".repeat(80),
            "、".repeat(80),
            "Ｗ".repeat(80),
            format!("{} {}", "m".repeat(39), "W".repeat(40)),
            "あ い".repeat(26) + "あい",
        ];
        for text in worst {
            assert_eq!(text.chars().count(), 80);
            for (width, height) in [(1024, 1024), (512, 512), (1280, 1024)] {
                let layout = BubbleLayout::fit(width, height, &text);
                assert!(layout.fits, "{text} at {width}×{height}");
                let body = layout.shape.body;
                assert!(body.right <= width as f32 && body.bottom <= 0.5 * height as f32);
            }
        }
    }

    #[test]
    fn the_bubble_is_white_with_dark_text_and_leaves_the_rest_alone() {
        let grey = Rgba([128, 128, 128, 255]);
        let avatar = RgbaImage::from_pixel(1024, 1024, grey);
        let quote = Quote::parse(EXAMPLE).unwrap();
        let layout = BubbleLayout::fit(1024, 1024, quote.as_str());
        let result = add_speech_bubble(&avatar, &RgbaImage::new(1024, 1024), &quote);

        let inner = Rect {
            left: layout.shape.body.left + layout.shape.corner_radius,
            top: layout.shape.body.top + layout.shape.outline_width * 2.0,
            right: layout.shape.body.right - layout.shape.corner_radius,
            bottom: layout.shape.body.bottom - layout.shape.outline_width * 2.0,
        };
        let (mut dark, mut white, mut total) = (0, 0, 0);
        for (x, y, pixel) in result.enumerate_pixels() {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            if (inner.left..inner.right).contains(&px) && (inner.top..inner.bottom).contains(&py) {
                total += 1;
                let [r, g, b, _] = pixel.0;
                if r < 60 && g < 60 && b < 60 {
                    dark += 1;
                }
                if pixel.0 == [255, 255, 255, 255] {
                    white += 1;
                }
            }
        }
        assert!(dark > total / 20, "text pixels: {dark} of {total}");
        assert!(white > total / 2, "white pixels: {white} of {total}");
        // Each line's band holds text.
        for index in 0..layout.lines.len() {
            let top = inner.top as u32 + (index as f32 * LINE_SPACING * layout.font_px) as u32;
            let band = (top..top + layout.font_px as u32)
                .flat_map(|y| (inner.left as u32..inner.right as u32).map(move |x| (x, y)));
            assert!(
                band.filter(|(x, y)| result.get_pixel(*x, *y).0[0] < 60)
                    .count()
                    > 50
            );
        }
        // The outline is dark, and the bottom of the picture is untouched.
        let outline_y = (layout.shape.body.top + layout.shape.outline_width / 2.0) as u32;
        let middle_x = ((layout.shape.body.left + layout.shape.body.right) / 2.0) as u32;
        assert!(result.get_pixel(middle_x, outline_y).0[0] < 40);
        assert!((600..1024).all(|y| result.get_pixel(512, y) == &grey));
        assert_eq!(result.get_pixel(1023, 0), &grey);
    }

    #[test]
    fn the_tail_points_from_the_bubble_toward_the_subject() {
        let layout = BubbleLayout::fit(1024, 1024, "Hi!");
        let tip = layout.shape.tail[2];
        assert!(tip.1 > layout.shape.body.bottom + 40.0, "{tip:?}");
        assert!(
            tip.0 > layout.shape.tail[0].0,
            "leans toward the centre: {tip:?}"
        );
        // The tip itself is drawn: dark outline around it.
        let result = add_speech_bubble(
            &RgbaImage::from_pixel(1024, 1024, Rgba([128, 128, 128, 255])),
            &RgbaImage::new(1024, 1024),
            &Quote::parse("Hi!").unwrap(),
        );
        let base = layout.shape.tail[0];
        let (dx, dy) = (tip.0 - base.0, tip.1 - base.1);
        let length = (dx * dx + dy * dy).sqrt();
        let near_tip = result.get_pixel(
            (tip.0 - 2.0 * dx / length) as u32,
            (tip.1 - 2.0 * dy / length) as u32,
        );
        assert!(near_tip.0[0] < 100, "{near_tip:?}");
    }

    #[test]
    fn degenerate_canvases_do_not_hang_or_panic() {
        let quote = Quote::parse(EXAMPLE).unwrap();
        for (width, height) in [(0, 0), (1, 1), (3, 500), (500, 3)] {
            let canvas = RgbaImage::new(width, height);
            let result = add_speech_bubble(&canvas, &canvas, &quote);
            assert_eq!(result.dimensions(), (width, height));
        }
    }

    /// A cut-out of a head (a disc) over shoulders, the head's centre at `head_x`.
    fn silhouette(side: u32, head_x: f32) -> RgbaImage {
        RgbaImage::from_fn(side, side, |x, y| {
            let (fx, fy) = (x as f32 / side as f32, y as f32 / side as f32);
            let head = ((fx - head_x) / 0.2).powi(2) + ((fy - 0.38) / 0.26).powi(2) < 1.0;
            let shoulders = fy > 0.7 && (fx - 0.5).abs() < 0.45;
            Rgba([200, 150, 120, if head || shoulders { 255 } else { 0 }])
        })
    }

    #[test]
    fn the_bubble_goes_beside_the_head_on_the_roomier_side() {
        let quote = Quote::parse(EXAMPLE).unwrap();
        for (head_x, side) in [(0.62, Side::Left), (0.38, Side::Right)] {
            let subject = silhouette(1024, head_x);
            let person = Person::of(&subject).unwrap();
            let layout = BubbleLayout::fit_beside(1024, 1024, EXAMPLE, &person).unwrap();
            let body = layout.shape.body;
            let on_left = body.right < 512.0;
            assert_eq!(on_left, side == Side::Left, "head at {head_x}: {body:?}");
            assert!(layout.font_px >= MIN_FONT * 1024.0);
            assert!(body.left >= 0.0 && body.right <= 1024.0 && body.top >= 0.0);
            // Nothing of the bubble's body is drawn over the person.
            let drawn = add_speech_bubble(&RgbaImage::new(1024, 1024), &subject, &quote);
            let covered = subject
                .enumerate_pixels()
                .filter(|(x, y, p)| {
                    p.0[3] == 255 && (*y as f32) < body.bottom && drawn.get_pixel(*x, *y).0[3] > 0
                })
                .count();
            assert_eq!(covered, 0, "head at {head_x}");
        }
    }

    #[test]
    fn a_person_filling_the_picture_gets_the_usual_bubble() {
        let everywhere = RgbaImage::from_pixel(512, 512, Rgba([0, 0, 0, 255]));
        let person = Person::of(&everywhere).unwrap();
        assert!(BubbleLayout::fit_beside(512, 512, EXAMPLE, &person).is_none());
        let drawn = add_speech_bubble(&everywhere, &everywhere, &Quote::parse(EXAMPLE).unwrap());
        let usual = BubbleLayout::fit(512, 512, EXAMPLE);
        let inside = drawn.get_pixel(
            (usual.shape.body.left + usual.shape.corner_radius) as u32,
            ((usual.shape.body.top + usual.shape.body.bottom) / 2.0) as u32,
        );
        assert_eq!(inside.0, [255, 255, 255, 255]);
    }

    #[test]
    fn distances_have_the_right_sign() {
        let rect = Rect {
            left: 0.0,
            top: 0.0,
            right: 100.0,
            bottom: 50.0,
        };
        assert!(rounded_rect_distance(&rect, 10.0, 50.0, 25.0) < -20.0);
        assert!((rounded_rect_distance(&rect, 10.0, 50.0, -5.0) - 5.0).abs() < 1e-3);
        assert!(
            rounded_rect_distance(&rect, 10.0, 1.0, 1.0) > 0.0,
            "corner is rounded off"
        );
        let triangle = [(0.0, 0.0), (10.0, 0.0), (5.0, 10.0)];
        assert!(triangle_distance(&triangle, 5.0, 3.0) < 0.0);
        assert!((triangle_distance(&triangle, 5.0, -2.0) - 2.0).abs() < 1e-3);
    }

    #[test]
    fn drawing_on_a_transparent_sticker_keeps_the_outside_transparent() {
        let clear = RgbaImage::new(600, 600);
        let result = add_speech_bubble(&clear, &clear, &Quote::parse(EXAMPLE).unwrap());
        assert_eq!(result.get_pixel(599, 599).0[3], 0);
        let layout = BubbleLayout::fit(600, 600, EXAMPLE);
        let inside = result.get_pixel(
            (layout.shape.body.left + layout.shape.corner_radius) as u32,
            ((layout.shape.body.top + layout.shape.body.bottom) / 2.0) as u32,
        );
        assert_eq!(inside.0[3], 255);
    }
}
