//! The course's self-checks, both ways: every exercise of `xray_lab::course` accepts its right
//! answer and answers a wrong one, a `todo!()` and an error with the hint, never a panic. On a
//! small synthetic dataset and on the 16 real X-rays, as the notebooks run (the notebook test
//! then runs the worked answers through the same checks).

mod common;

use std::path::Path;

use xray_lab::course::{self, Answer, Exercise, Verdict};
use xray_lab::prelude::*;
use xray_lab::train::linear::MllibSolver;
use xray_lab::train::metrics::Confusion;

/// Checks one exercise four ways: its right answer, `wrong`, a `todo!()` and an error.
fn both_ways<T: Answer + 'static>(q: &Exercise<T>, wrong: T) {
    let right = q.expected().clone();
    let outcome = q.check(|| Ok(right));
    assert!(
        outcome.is_correct(),
        "{}: its own answer was refused: {outcome}",
        q.title()
    );
    assert!(outcome.hint().is_none());

    let outcome = q.check(|| Ok(wrong.clone()));
    assert!(
        matches!(outcome.verdict, Verdict::Incorrect { .. }),
        "{}: {wrong:?} was accepted: {outcome}",
        q.title()
    );
    let hint = outcome.hint().expect("a wrong answer comes with the hint");
    assert!(!hint.is_empty() && outcome.to_string().contains(hint));

    let outcome = q.check(|| todo!());
    assert_eq!(outcome.verdict, Verdict::NotDone, "{}", q.title());
    assert!(outcome.to_string().contains("todo!()"));

    let outcome = q.check(|| {
        Err(Error::MissingColumn {
            what: "the answer".into(),
            column: "no such column".into(),
            columns: vec![],
        })
    });
    assert!(
        matches!(&outcome.verdict, Verdict::Failed { reason } if reason.contains("no such column")),
        "{}: {outcome}",
        q.title()
    );
    assert!(!q.solution().text.is_empty());
    assert!(!q.hint().text.is_empty());
}

/// A wrong number near the right one: off by more than any tolerance the course uses.
fn off(x: f64) -> f64 {
    x + 0.01 * x.abs().max(1.0)
}

fn check_every_exercise_on(root: &Path) {
    let dataset = load::scan(root).unwrap();
    both_ways(&course::n01::busiest_patient(&dataset).unwrap(), 10_000);
    both_ways(&course::n01::png_rule(root).unwrap(), 10_000);
    both_ways(&course::n01::real_sample_split().unwrap(), "train".into());
    let q = course::n01::busiest_patient_in_test(&dataset).unwrap();
    both_ways(&q, off(*q.expected()));
    let q = course::n01::matrix_at_original_sizes(&dataset).unwrap();
    both_ways(&q, off(*q.expected()));
    let q = course::n01::pneumonia_share(&dataset).unwrap();
    both_ways(&q, off(*q.expected()));

    let q = course::n02::unstratified_normal_in_validation(&dataset).unwrap();
    both_ways(&q, q.expected() + 1);
    let q = course::n02::test_images_with_seed_7(&dataset).unwrap();
    both_ways(&q, q.expected() + 1);
    let q = course::n02::report_overlap_with_seed_1(&dataset).unwrap();
    both_ways(&q, q.expected() + 1);
    let q = course::n02::validation_size(&dataset).unwrap();
    both_ways(&q, q.expected() + 1);
    let q = course::n02::patients_leaked_by_a_disjoint_draw(&dataset).unwrap();
    both_ways(&q, q.expected() + 1);
    let report = split::report_method(&dataset.images, 42).unwrap();
    let q = course::n02::images_in_two_subsets(&report.memberships).unwrap();
    assert_eq!(
        *q.expected(),
        report.overlap,
        "the leak count is the report's overlap"
    );
    both_ways(&q, q.expected() + 1);

    let images = split::default_split(&dataset).unwrap();
    let facts = facts::facts(&images).unwrap();
    both_ways(
        &course::n03::widest_folder(&facts).unwrap(),
        "nowhere".into(),
    );
    both_ways(&course::n03::wider_class(&facts).unwrap(), "COVID".into());
    both_ways(&course::n03::wider_spread(&facts).unwrap(), "COVID".into());
    let q = course::n03::width_cut_on_test(&facts).unwrap();
    both_ways(&q, off(*q.expected()));
    both_ways(&course::n03::where_aspect_survives(), 'a');

    both_ways(&course::n04::smaller_matrix(64), 22_500.0 / 64.0);
    let first = frame::strings(&images, "path").unwrap()[0].clone();
    let q = course::n04::exact_against_scaled(&first, &DecodeOptions::new()).unwrap();
    both_ways(&q, off(*q.expected()) + 0.01);
    let q = course::n04::pickled_megabytes(&dataset);
    both_ways(&q, dataset.len() as f64 * 22_500.0 * 4.0 / 1e6);
    both_ways(&course::n04::undecoded_subset(), "test".into());
    both_ways(&course::n04::what_64_pixels_lose(), 'c');

    let options = DecodeOptions::new().cache(false);
    let features = decode::features(&images, &options).unwrap();
    let q = course::n05::forest_auc(&features, 10).unwrap();
    both_ways(&q, off(*q.expected()));
    let q = course::n05::unweighted_specificity(&features).unwrap();
    both_ways(&q, off(*q.expected()));
    let q = course::n05::neighbours_auc(&features, 5).unwrap();
    both_ways(&q, off(*q.expected()));
    let evaluation = train::evaluate(&features, &TrainOptions::new()).unwrap();
    both_ways(
        &course::n05::cheapest_model(&evaluation).unwrap(),
        "nobody".into(),
    );
    let q = course::n05::reg_param_for_chosen_penalty(&features).unwrap();
    // The course's old formula, α / n, is the wrong answer a student would give.
    let train_x = Samples::from_features(&features, "train").unwrap();
    let spread = MllibSolver::Lbfgs.std(train_x.y().iter().map(|&y| y as f64));
    both_ways(&q, *q.expected() / spread);
    let q = course::n05::confusion_by_hand(&evaluation).unwrap();
    let mut wrong: Confusion = *q.expected();
    wrong.tp += 1;
    both_ways(&q, wrong);

    let q = course::n06::normal_share(&images, "test").unwrap();
    both_ways(&q, off(*q.expected()));
    let q = course::n06::best_test_auc(&evaluation).unwrap();
    both_ways(&q, off(*q.expected()));
    both_ways(&course::n06::clinicians_panel(), 'a');
    both_ways(&course::n06::panel_for_class_balance(), 'a');
    both_ways(&course::n06::where_the_page_says_so(), 'c');

    both_ways(&course::n07::layers_that_carry_over(), 'b');
    both_ways(&course::n07::before_claiming(), 'a');

    let q = course::n08::normal_icc_share(&facts).unwrap();
    both_ways(&q, off(*q.expected()));
    let q = course::n08::matched_share(&facts).unwrap();
    both_ways(&q, off(*q.expected()));
    both_ways(&course::n08::what_size_blind_removes(), 'a');
    let q = course::n08::logistic_lung_share(&evaluation, &features).unwrap();
    both_ways(&q, off(*q.expected()));
    let test_files = images
        .clone()
        .lazy()
        .filter(col("subset").eq(lit("test")))
        .collect()
        .unwrap();
    let film = frame::strings(&test_files, "path").unwrap()[0].clone();
    let map = evaluation
        .model(ModelKind::LogisticRegression)
        .unwrap()
        .occlusion(&film, 15, 5)
        .unwrap();
    let q = course::n08::corner_share(&map);
    both_ways(&q, off(*q.expected()));
    both_ways(&course::n08::where_is_not_what(), 'a');
}

/// One cache folder for the whole test binary (the tests run in parallel, and the variable is
/// the process's), removed with the process's temporary files.
fn use_own_cache() {
    static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = CACHE.get_or_init(|| tempfile::tempdir().unwrap());
    std::env::set_var("XRAY_LAB_CACHE", dir.path());
}

#[test]
fn every_exercise_accepts_its_answer_and_hints_at_a_wrong_one_on_synthetic_data() {
    use_own_cache();
    let tmp = tempfile::tempdir().unwrap();
    check_every_exercise_on(&common::course_dataset(&tmp.path().join("data")));
}

#[test]
fn every_exercise_runs_on_the_real_sample() {
    use_own_cache();
    check_every_exercise_on(&common::real_sample());
}

#[test]
fn notebook_00s_exercises_have_the_answers_the_course_teaches() {
    both_ways(&course::n00::mutation(), 0);
    both_ways(&course::n00::cloning(), 4);
    both_ways(&course::n00::iterators(), 59);
    both_ways(&course::n00::options(), 0);
    both_ways(&course::n00::results(), 0);
    both_ways(&course::n00::enums(), 1000);
    // The integer division a student writes first.
    both_ways(&course::n00::casts(), (1341 / 5216) as f64);
    both_ways(&course::n00::compiler_message(), 'a');
    assert_eq!(*course::n00::casts().expected(), 1341.0 / 5216.0);
}

#[test]
fn a_panic_that_is_not_a_todo_is_reported_with_its_message() {
    let q = course::n00::results();
    let outcome = q.check(|| {
        let texts: Vec<&str> = Vec::new();
        Ok(texts[3].len())
    });
    match outcome.verdict {
        Verdict::Failed { reason } => assert!(reason.contains("index out of bounds"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The panic hook is back: a later panic still reports through it.
    assert!(std::panic::catch_unwind(|| panic!("still loud")).is_err());
}

#[cfg(feature = "pretrained")]
#[test]
fn the_best_class_exercise_agrees_with_the_networks_top_class() {
    let network = pretrained::Network::from_cache().unwrap();
    let photo = image::open(pretrained::photos_folder().join("coffee.png"))
        .unwrap()
        .to_rgb8();
    let output = network.run(&network.input_from_rgb(&photo));
    let q = course::n07::best_class(&output);
    assert_eq!(*q.expected(), 967, "espresso");
    both_ways(&q, 0);
}
