//! Settings that passed their check, as linfa keeps hyperparameters: a settings type has private
//! fields and builder methods, its `check()` returns a [`Checked`] copy, and the fitting code
//! takes only that, so nothing fits on settings that were changed after they were checked.

use std::ops::Deref;

/// Settings `P` that passed `P::check()`. Only the check makes one, and it cannot be changed:
/// reading it (through `Deref`) is all it allows.
///
/// ```
/// use xray_lab::train::tree::ForestParameters;
/// let checked = ForestParameters::default().with_trees(20).check()?;
/// assert_eq!(checked.trees(), 20);
/// assert!(ForestParameters::default().with_trees(0).check().is_err());
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<P>(P);

impl<P> Checked<P> {
    /// Wraps settings that `check` has just accepted. Only a `check` calls it.
    pub(super) fn accepted(settings: P) -> Self {
        Checked(settings)
    }

    /// The settings themselves, to change and check again.
    pub fn into_inner(self) -> P {
        self.0
    }
}

impl<P> Deref for Checked<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.0
    }
}
