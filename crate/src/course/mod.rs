//! Self-checks for the course's notebooks, in the manner of Kaggle Learn's exercises: each
//! Try-it, question and blank to fill in has an [`Exercise`] whose right answer is computed on
//! the dataset the notebook runs on (the synthetic default, the real sample or your download),
//! and which says whether a student's answer is right, with a hint when it is not.
//!
//! ```
//! use xray_lab::course::Exercise;
//! let q = Exercise::new("00 · casts", 3.5, "Divide as floats: `7 as f64 / 2.0`.", "7 as f64 / 2.0");
//! assert!(q.check(|| Ok(7 as f64 / 2.0)).is_correct());
//! assert!(!q.check(|| Ok((7 / 2) as f64)).is_correct()); // 3.0: the hint, not a panic
//! assert!(!q.check(|| todo!()).is_correct());             // "not done yet", not a panic
//! # Ok::<(), xray_lab::Error>(())
//! ```
//!
//! A check takes a closure, `q.check(|| Ok(answer))`, so that a blank left as `todo!()` (or code
//! that panics) is reported as unfinished instead of ending the kernel, and code that returns an
//! error with `?` is reported with that error. One module per notebook ([`n00`] to [`n08`])
//! builds its exercises; their hints and solutions are the course's, their expected values the
//! crate's own functions applied to the same data.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use crate::frame::escape_html;
use crate::Result;

pub mod n00;
pub mod n01;
pub mod n02;
pub mod n03;
pub mod n04;
pub mod n05;
pub mod n06;
pub mod n07;
pub mod n08;

/// A value a check can compare: exactly, or (for `f64`) within a tolerance.
pub trait Answer: Clone + fmt::Debug {
    /// Whether `self` (the student's) agrees with `expected`, given the exercise's tolerance
    /// (relative, used by `f64` only).
    fn agrees(&self, expected: &Self, tolerance: f64) -> bool;
    /// How the value is shown in a verdict.
    fn shown(&self) -> String {
        format!("{self:?}")
    }
}

impl Answer for f64 {
    /// Within `tolerance` of `expected`, relative to its size (absolute below 1).
    fn agrees(&self, expected: &Self, tolerance: f64) -> bool {
        self.is_finite() && (self - expected).abs() <= tolerance * expected.abs().max(1.0)
    }
    fn shown(&self) -> String {
        format!("{self:.6}")
    }
}

impl Answer for String {
    /// The same text, ignoring case and the spaces around it.
    fn agrees(&self, expected: &Self, _: f64) -> bool {
        self.trim().eq_ignore_ascii_case(expected.trim())
    }
}

impl Answer for char {
    /// The same letter, ignoring case (multiple choice).
    fn agrees(&self, expected: &Self, _: f64) -> bool {
        self.eq_ignore_ascii_case(expected)
    }
}

macro_rules! exact_answers {
    ($($t:ty),*) => {$(
        impl Answer for $t {
            fn agrees(&self, expected: &Self, _: f64) -> bool {
                self == expected
            }
        }
    )*};
}
exact_answers!(usize, u64, i64, bool, crate::train::metrics::Confusion);

/// One exercise: the right answer on this dataset, a hint and a solution.
#[derive(Debug, Clone)]
pub struct Exercise<T: Answer> {
    title: String,
    expected: T,
    tolerance: f64,
    hint: String,
    solution: String,
}

impl<T: Answer> Exercise<T> {
    /// An exercise named `title` whose right answer is `expected`; `hint` is shown with a wrong
    /// answer, `solution` (code, usually) on request.
    pub fn new(
        title: impl Into<String>,
        expected: T,
        hint: impl Into<String>,
        solution: impl Into<String>,
    ) -> Self {
        Exercise {
            title: title.into(),
            expected,
            tolerance: 1e-6,
            hint: hint.into(),
            solution: solution.into(),
        }
    }

    /// Accept numbers within `relative` of the right one (default 1e-6).
    pub fn within(mut self, relative: f64) -> Self {
        self.tolerance = relative;
        self
    }

    /// The exercise's name, as its verdicts show it.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Run the student's answer and say whether it is right. A `todo!()` left in it gives
    /// [`Verdict::NotDone`], any other panic or an error returned with `?` gives
    /// [`Verdict::Failed`]; neither ends the kernel.
    pub fn check(&self, answer: impl FnOnce() -> Result<T>) -> Outcome {
        let verdict = match quietly(answer) {
            Ok(Ok(value)) if value.agrees(&self.expected, self.tolerance) => Verdict::Correct {
                value: value.shown(),
            },
            Ok(Ok(value)) => Verdict::Incorrect {
                value: value.shown(),
            },
            Ok(Err(error)) => Verdict::Failed {
                reason: format!("your code returned an error: {error}"),
            },
            Err(message) if message.contains("not yet implemented") => Verdict::NotDone,
            Err(message) => Verdict::Failed {
                reason: format!("your code panicked: {message}"),
            },
        };
        Outcome {
            title: self.title.clone(),
            verdict,
            hint: self.hint.clone(),
        }
    }

    /// The hint, shown as a note.
    pub fn hint(&self) -> Note {
        Note {
            title: format!("{} · hint", self.title),
            text: self.hint.clone(),
            code: false,
        }
    }

    /// The solution (usually code), shown as a note.
    pub fn solution(&self) -> Note {
        Note {
            title: format!("{} · solution", self.title),
            text: self.solution.clone(),
            code: true,
        }
    }

    /// The right answer (for tests and instructors; students call [`Exercise::solution`]).
    pub fn expected(&self) -> &T {
        &self.expected
    }
}

/// Runs `f`, turning a panic into its message. The panic hook is silenced meanwhile, so a
/// `todo!()` does not print a backtrace notice under the cell.
fn quietly<T>(f: impl FnOnce() -> Result<T>) -> std::result::Result<Result<T>, String> {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(hook);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The answer is right.
    Correct {
        /// The student's value.
        value: String,
    },
    /// The answer ran but is not right.
    Incorrect {
        /// The student's value.
        value: String,
    },
    /// The answer still holds a `todo!()`.
    NotDone,
    /// The answer's code returned an error or panicked.
    Failed {
        /// What went wrong.
        reason: String,
    },
}

/// A check's result: shows in a notebook as a coloured line ("Correct", or what was wrong and
/// the hint).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The exercise checked.
    pub title: String,
    /// What the check found.
    pub verdict: Verdict,
    hint: String,
}

impl Outcome {
    /// Whether the answer was right.
    pub fn is_correct(&self) -> bool {
        matches!(self.verdict, Verdict::Correct { .. })
    }

    /// The hint that comes with anything but a right answer.
    pub fn hint(&self) -> Option<&str> {
        (!self.is_correct()).then_some(self.hint.as_str())
    }

    fn parts(&self) -> (&'static str, &'static str, String) {
        match &self.verdict {
            Verdict::Correct { value } => ("#2a9d8f", "Correct", format!("{value} is right.")),
            Verdict::Incorrect { value } => (
                "#e76f51",
                "Not yet",
                format!("{value} is not the answer. Hint: {}", self.hint),
            ),
            Verdict::NotDone => (
                "#6d597a",
                "Your turn",
                format!(
                    "replace the todo!() with your answer, then run the cell again. Hint: {}",
                    self.hint
                ),
            ),
            Verdict::Failed { reason } => (
                "#9e2a2b",
                "Check your code",
                format!("{reason}. Hint: {}", self.hint),
            ),
        }
    }

    /// evcxr's display hook: a coloured line (and the same as plain text).
    pub fn evcxr_display(&self) {
        let (color, word, text) = self.parts();
        println!(
            "EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT text/html\n<div class=\"xray-lab-check\" style=\"border-left:4px solid {color};padding:4px 10px\"><b style=\"color:{color}\">{word}</b> · {} · {}</div>\nEVCXR_END_CONTENT",
            escape_html(&self.title),
            escape_html(&text)
        );
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (_, word, text) = self.parts();
        write!(f, "{word} · {} · {text}", self.title)
    }
}

/// A hint or a solution, shown as a box (a solution as code).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Which exercise, and which note.
    pub title: String,
    /// The note itself.
    pub text: String,
    code: bool,
}

impl Note {
    /// evcxr's display hook: a box (and the same as plain text).
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
        let body = if self.code {
            format!("<pre>{}</pre>", escape_html(&self.text))
        } else {
            format!("<p>{}</p>", escape_html(&self.text))
        };
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n<div style=\"border-left:4px solid #457b9d;padding:4px 10px\"><b>{}</b>{body}</div>\nEVCXR_END_CONTENT",
            escape_html(&self.title)
        );
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.title, self.text)
    }
}

/// A multiple-choice question: the options as (letter, text), the right letter, and a hint
/// that says where to look. Shows its options in the verdict's hint, so a student sees them
/// again after a wrong letter.
pub(crate) fn choice(
    title: &str,
    options: &[(char, &str)],
    right: char,
    hint: &str,
    why: &str,
) -> Exercise<char> {
    let listed: Vec<String> = options.iter().map(|(l, t)| format!("({l}) {t}")).collect();
    Exercise::new(
        title,
        right,
        format!("{hint} Options: {}", listed.join("; ")),
        format!("Ok('{right}')  // {why}"),
    )
}
