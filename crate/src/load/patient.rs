//! The patient a Kaggle file name points to.

/// The patient a Kaggle chest X-ray file name points to, or `None` when the name does not fit.
///
/// The dataset's names carry the patient: `person1946_bacteria_4874.jpeg` is patient `person1946`,
/// `IM-0115-0001.jpeg` is `IM-0115`. Names such as `NORMAL2-IM-1427-0001.jpeg` come from a second
/// batch whose numbering may or may not match the first; we cannot tell, so we group coarsely and
/// give them the same id as `IM-1427-…`: two people sharing an id only makes a grouped split
/// stricter, while two ids for one person would let that person leak across subsets.
///
/// ```
/// use xray_lab::load::patient_id;
/// assert_eq!(patient_id("person1946_bacteria_4874.jpeg").as_deref(), Some("person1946"));
/// assert_eq!(patient_id("person1_virus_6.jpeg").as_deref(), Some("person1"));
/// assert_eq!(patient_id("IM-0115-0001.jpeg").as_deref(), Some("IM-0115"));
/// assert_eq!(patient_id("NORMAL2-IM-1427-0001.jpeg").as_deref(), Some("IM-1427"));
/// assert_eq!(patient_id("scan_0042.png"), None);
/// ```
pub fn patient_id(file_name: &str) -> Option<String> {
    // Hand-written rather than a regex: two fixed prefixes, and it keeps the regex engine out of
    // every notebook's compile.
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    if let Some(rest) = stem.strip_prefix("person") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[digits.len()..];
        if !digits.is_empty() && (after.is_empty() || after.starts_with('_')) {
            return Some(format!("person{digits}"));
        }
        return None;
    }
    let at = stem.find("IM-")?;
    // Only the bare name or a batch prefix ending in '-' (NORMAL2-) may come before IM-.
    if at > 0 && !stem[..at].ends_with('-') {
        return None;
    }
    let rest = &stem[at + 3..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[digits.len()..];
    if digits.is_empty() || !(after.is_empty() || after.starts_with('-')) {
        return None;
    }
    Some(format!("IM-{digits}"))
}
