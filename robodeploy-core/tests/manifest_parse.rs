//! Manifest parsing: the format's rules, and errors that name the file, line and column.

use robodeploy_core::manifest::{
    Document, Format, Kind, Manifest, ManifestError, Position, SyntaxError,
};

const FLEET: &str = "apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: lab\n  robots: []\n";

fn parse_err(text: &str) -> ManifestError {
    Manifest::parse_str(text).expect_err("must not parse")
}

fn at(line: u64, column: u64) -> Option<Position> {
    Some(Position { line, column })
}

#[test]
fn a_yaml_document_reads_into_its_kind() {
    let m = Manifest::parse_yaml(FLEET).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m.documents[0].kind(), Kind::Fleet);
    assert_eq!(m.fleets().next().unwrap().name, "lab");
}

#[test]
fn several_yaml_documents_and_empty_ones_skipped() {
    let text = format!("---\n{FLEET}---\n---\n{}", FLEET.replace("lab", "yard"));
    let m = Manifest::parse_yaml(&text).unwrap();
    let names: Vec<_> = m.fleets().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["lab", "yard"]);
}

#[test]
fn kind_may_come_before_api_version() {
    let text = "kind: Fleet\napiVersion: robodeploy/v1\nspec: {name: lab, robots: []}\n";
    assert_eq!(Manifest::parse_yaml(text).unwrap().len(), 1);
}

#[test]
fn json_reads_one_object_or_an_array() {
    let one = r#"{"apiVersion": "robodeploy/v1", "kind": "Fleet", "spec": {"name": "lab", "robots": []}}"#;
    assert_eq!(Manifest::parse_json(one).unwrap().len(), 1);
    let two = format!("[{one}, {one}]");
    assert_eq!(Manifest::parse_json(&two).unwrap().len(), 2);
}

#[test]
fn format_is_detected_from_content() {
    assert_eq!(Format::detect("  \n{\"a\": 1}"), Format::Json);
    assert_eq!(Format::detect("\u{feff}[1]"), Format::Json);
    assert_eq!(Format::detect("apiVersion: x"), Format::Yaml);
    assert_eq!(Format::detect(""), Format::Yaml);
}

#[test]
fn unknown_field_inside_spec_has_its_line_and_column() {
    let text = "apiVersion: robodeploy/v1\nkind: Package\nspec:\n  name: p\n  version: '1'\n  components:\n    - name: c\n      placement: {kind: cloud}\n      executables:\n        - name: e\n          imagee: busybox\n";
    let err = parse_err(text);
    assert_eq!(err.position(), at(11, 11));
    assert!(err.to_string().contains("unknown field `imagee`"), "{err}");
}

#[test]
fn unknown_top_level_key_is_refused() {
    let err = parse_err("apiVersion: robodeploy/v1\nkind: Fleet\nmetadata: {}\nspec: {}\n");
    assert_eq!(err.position(), at(3, 1));
    assert!(
        err.to_string().contains("unknown field `metadata`"),
        "{err}"
    );
}

#[test]
fn duplicate_yaml_key_is_refused_with_its_position() {
    let err = parse_err(
        "apiVersion: robodeploy/v1\nkind: Deployment\nspec:\n  name: a\n  package: p\n  version: '1'\n  env:\n    A: x\n    A: y\n",
    );
    assert_eq!(err.position(), at(9, 5));
    assert!(
        err.to_string().contains("duplicate mapping key: A"),
        "{err}"
    );
}

#[test]
fn duplicate_json_key_is_refused_with_its_position() {
    // serde_json alone would keep "y" silently.
    let text = "{\"apiVersion\": \"robodeploy/v1\", \"kind\": \"Deployment\",\n\"spec\": {\"name\": \"a\", \"package\": \"p\", \"version\": \"1\",\n  \"env\": {\"A\": \"x\", \"A\": \"y\"}}}";
    let err = parse_err(text);
    assert_eq!(err.position(), at(3, 23));
    assert!(err.to_string().contains("duplicate key \"A\""), "{err}");
    // A duplicate top-level key too.
    let err = parse_err(r#"{"kind": "Fleet", "kind": "Fleet"}"#);
    assert!(err.to_string().contains("duplicate key \"kind\""), "{err}");
}

#[test]
fn unsupported_api_version_names_the_supported_ones() {
    let err = parse_err(&FLEET.replace("robodeploy/v1", "robodeploy/v2"));
    assert_eq!(err.position(), at(1, 13));
    assert!(
        err.to_string()
            .ends_with("unsupported apiVersion \"robodeploy/v2\"; supported: robodeploy/v1"),
        "{err}"
    );
}

#[test]
fn unknown_kind_names_the_kinds() {
    let err = parse_err("apiVersion: robodeploy/v1\nkind: Robot\nspec: {}\n");
    assert_eq!(err.position(), at(2, 7));
    assert!(err.to_string().contains("unknown variant `Robot`"), "{err}");
    assert!(err.to_string().contains("DeploymentJob"), "{err}");
}

#[test]
fn spec_before_kind_is_refused_where_spec_is() {
    let err = parse_err("apiVersion: robodeploy/v1\nspec:\n  name: lab\nkind: Fleet\n");
    assert_eq!(err.position(), at(3, 3));
    assert!(err.to_string().contains("must come before `spec`"), "{err}");
}

#[test]
fn missing_spec_api_version_or_kind_is_refused() {
    let err = parse_err("apiVersion: robodeploy/v1\nkind: Fleet\n");
    assert!(err.to_string().contains("missing field `spec`"), "{err}");
    let err = parse_err("kind: Fleet\n");
    assert!(
        err.to_string().contains("missing field `apiVersion`"),
        "{err}"
    );
    let err = parse_err("apiVersion: robodeploy/v1\n");
    assert!(err.to_string().contains("missing field `kind`"), "{err}");
}

#[test]
fn a_wrong_value_type_has_its_position() {
    let text = FLEET.replace(
        "robots: []",
        "robots:\n    - name: r1\n      architecture: sparc\n      runtime: docker",
    );
    let err = parse_err(&text);
    assert_eq!(err.position(), at(7, 21));
    assert!(err.to_string().contains("unknown variant `sparc`"), "{err}");
}

#[test]
fn errors_in_a_later_document_count_lines_from_the_file_start() {
    let text = format!("{FLEET}---\n{}", FLEET.replace("robots: []", "robots: 7"));
    let err = parse_err(&text);
    assert_eq!(err.position().map(|p| p.line), Some(11));
}

#[test]
fn json_errors_have_line_and_column_and_no_duplicate_suffix() {
    let text = "[\n  {\"apiVersion\": \"robodeploy/v1\", \"kind\": \"Fleet\",\n   \"spec\": {\"name\": \"lab\", \"robotz\": []}}\n]";
    let err = parse_err(text);
    assert_eq!(err.position(), at(3, 35)); // just after the key
    let shown = err.to_string();
    assert!(
        shown.starts_with("JSON line 3, column 35: unknown field `robotz`"),
        "{shown}"
    );
    assert!(!shown.contains(" at line "), "{shown}");
    assert!(matches!(
        err,
        ManifestError::Parse {
            source: SyntaxError::Json(_),
            format: Format::Json,
            ..
        }
    ));
}

#[test]
fn json_syntax_error_has_its_position() {
    let err = parse_err("{\"apiVersion\": \"robodeploy/v1\",\n \"kind\" \"Fleet\"}");
    assert_eq!(err.position(), at(2, 9));
}

#[test]
fn empty_input_is_no_documents() {
    for text in ["", "---\n", "# just a comment\n", "[]"] {
        assert!(
            matches!(parse_err(text), ManifestError::NoDocuments { .. }),
            "{text:?}"
        );
    }
}

#[test]
fn load_names_the_file_in_errors_and_picks_the_format_by_extension() {
    let dir = std::env::temp_dir().join(format!("robodeploy-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, FLEET.replace("robots: []", "robots: []\n  extra: 1")).unwrap();
    let err = Manifest::load(&bad).unwrap_err();
    assert_eq!(err.file(), Some(bad.as_path()));
    assert_eq!(err.position(), at(6, 3));
    assert!(
        err.to_string()
            .starts_with(&format!("{}:6:3: unknown field `extra`", bad.display())),
        "{err}"
    );

    // An unknown extension falls back to the content.
    let json = dir.join("fleet.manifest");
    let m = Manifest::parse_yaml(FLEET).unwrap();
    std::fs::write(&json, m.to_json().unwrap()).unwrap();
    assert_eq!(Manifest::load(&json).unwrap(), m);

    let missing = dir.join("missing.yaml");
    let err = Manifest::load(&missing).unwrap_err();
    assert!(matches!(err, ManifestError::Io { .. }));
    assert!(err.to_string().contains("missing.yaml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn yaml_anchors_bombs_are_refused_not_expanded() {
    // A billion-laughs document: serde-saphyr's budget refuses it; it must not hang or panic.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..40 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    assert!(Manifest::parse_yaml(&text).is_err());
}

#[test]
fn written_yaml_starts_each_document_with_its_api_version() {
    let mut m = Manifest::parse_yaml(FLEET).unwrap();
    m.push(m.documents[0].clone());
    let yaml = m.to_yaml().unwrap();
    assert_eq!(yaml.matches("apiVersion: robodeploy/v1").count(), 2);
    assert!(yaml.contains("\n---\n"), "{yaml}");
    let json = m.to_json().unwrap();
    assert!(json.starts_with('['), "{json}");
    assert!(matches!(m.documents[0], Document::Fleet(_)));
}

/// A fleet document of `robots` robots, one flow mapping a line.
fn big_fleet(robots: usize) -> String {
    let mut text =
        String::from("apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: big\n  robots:\n");
    for i in 0..robots {
        text.push_str(&format!(
            "    - {{name: r{i:07}, architecture: amd64, runtime: preinstalled}}\n"
        ));
    }
    text
}

#[test]
fn a_yaml_fleet_far_above_the_readers_default_budget_loads() {
    // The reader's default node budget stopped fleets at about 35,700 robots.
    let m = Manifest::parse_yaml(&big_fleet(100_000)).unwrap();
    let fleet = m.fleets().next().unwrap();
    assert_eq!(fleet.robots.len(), 100_000);
    assert_eq!(fleet.robots[99_999].name, "r0099999");
}

#[test]
fn aliases_stay_capped_however_large_the_text() {
    // The budgets that grow with the text must not let aliases grow with it: 60,000 aliases
    // of one robot breach the fixed cap of 50,000, in a text of 420 kB.
    let mut text = String::from(
        "apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: big\n  robots:\n    - &r {name: r, architecture: amd64, runtime: preinstalled}\n",
    );
    for _ in 0..60_000 {
        text.push_str("    - *r\n");
    }
    let err = Manifest::parse_yaml(&text).unwrap_err();
    assert!(err.to_string().contains("alias"), "{err}");
    // A few aliases in the same shape load (the limit is on aliases, not on size).
    let under: String = text
        .lines()
        .take(6 + 90)
        .map(|l| format!("{l}\n"))
        .collect();
    let m = Manifest::parse_yaml(&under).unwrap();
    assert_eq!(m.fleets().next().unwrap().robots.len(), 91);
}
