//! The dashboard in real headless browsers, Chromium (Debian's `chromium` driven through
//! `chromedriver`) and Firefox (`firefox-esr` through `geckodriver`), over WebDriver, against a
//! real `robodeploy serve` running a 50-robot job in which two robots' pre-launch scripts fail.
//! Part of the way through the page is taken with the keyboard alone (Tab and Enter), as a
//! person without a mouse would. Screenshots of each view go to
//! `target/tmp/dashboard-screenshots/<browser>-<view>.png`.
//!
//! Without a browser and its driver on PATH its test skips with a note, unless `CI` or
//! `ROBODEPLOY_REQUIRE_BROWSER=1` is set (`.ci/run` sets it and installs both browsers).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, eventually, explain, manifest as doc};
use serde_json::{Value, json};

/// The browsers the page must work in.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Chromium,
    Firefox,
}

impl Kind {
    /// The WebDriver server and the browser binaries looked for on PATH (the first found).
    fn binaries(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Kind::Chromium => ("chromedriver", &["chromium"]),
            Kind::Firefox => ("geckodriver", &["firefox-esr", "firefox"]),
        }
    }

    /// How to get them.
    fn install(self) -> &'static str {
        match self {
            Kind::Chromium => "apt-get install chromium chromium-driver",
            Kind::Firefox => "apt-get install firefox-esr; cargo install geckodriver",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Chromium => "chromium",
            Kind::Firefox => "firefox",
        }
    }

    /// A new session's capabilities: headless, 1280x1000.
    fn capabilities(self, binary: &Path) -> Value {
        match self {
            Kind::Chromium => json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": binary,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,1000"]
                }
            }}}),
            Kind::Firefox => json!({"capabilities": {"alwaysMatch": {
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": binary,
                    "args": ["-headless", "--width=1280", "--height=1000"]
                }
            }}}),
        }
    }
}

/// The driver and the browser of `kind`, or why the test skips.
fn browser(kind: Kind) -> Option<(PathBuf, PathBuf)> {
    let find = |name: &str| {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
    };
    let (driver, browsers) = kind.binaries();
    let found = find(driver).zip(browsers.iter().find_map(|b| find(b)));
    if found.is_none() {
        let required = std::env::var_os("CI").is_some()
            || std::env::var("ROBODEPLOY_REQUIRE_BROWSER").as_deref() == Ok("1");
        assert!(
            !required,
            "CI or ROBODEPLOY_REQUIRE_BROWSER=1, but {driver} or {browsers:?} is not on PATH ({})",
            kind.install()
        );
        eprintln!(
            "SKIPPED: {driver} or {browsers:?} not on PATH (set ROBODEPLOY_REQUIRE_BROWSER=1 to fail)"
        );
    }
    found
}

/// A minimal WebDriver client: a driver process and one headless session.
struct Browser {
    kind: Kind,
    driver: Child,
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Browser {
    fn start(kind: Kind, driver: &Path, binary: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the WebDriver server");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut b = Browser {
            kind,
            driver: child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            rt,
        };
        assert!(
            eventually(Duration::from_secs(30), || b
                .raw("GET", "/status", None)
                .is_some_and(|v| v["value"]["ready"] == true)),
            "{driver:?} did not become ready"
        );
        let session = b
            .raw("POST", "/session", Some(kind.capabilities(binary)))
            .expect("new session");
        let id = session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {session}"))
            .to_owned();
        b.base = format!("{}/session/{id}", b.base);
        b
    }

    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let req = match method {
                "GET" => self.http.get(&url),
                "DELETE" => self.http.delete(&url),
                _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
            };
            let r = req.timeout(Duration::from_secs(60)).send().await.ok()?;
            r.json::<Value>().await.ok()
        })
    }

    /// A WebDriver command that must succeed; its `value`.
    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let v = self
            .raw(method, path, Some(body))
            .unwrap_or_else(|| panic!("{method} {path}: no answer"));
        if v["value"].get("error").is_some() {
            panic!("{method} {path}: {v}");
        }
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page; what it returns.
    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    /// Waits until `script` returns true, at most `limit`; the last value on failure.
    fn wait(&self, limit: Duration, what: &str, script: &str) {
        let start = Instant::now();
        loop {
            let v = self.js(script);
            if v == Value::Bool(true) {
                return;
            }
            if start.elapsed() > limit {
                let page =
                    self.js("return document.querySelector('main').innerText.slice(0, 3000)");
                panic!("timed out waiting for {what} (last {v}); page: {page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// Clicks the element `css` finds (found again if the page replaced it meanwhile).
    fn click(&self, css: &str) {
        for _ in 0..5 {
            let id = self.element(css);
            let v = self
                .raw("POST", &format!("/element/{id}/click"), Some(json!({})))
                .unwrap_or_else(|| panic!("click {css}: no answer"));
            match v["value"]["error"].as_str() {
                None => return,
                Some("stale element reference") => continue,
                Some(_) => panic!("click {css}: {v}"),
            }
        }
        panic!("click {css}: the element kept being replaced");
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    /// Presses and releases one key (a WebDriver key code: `TAB`, `ENTER`) in the focused
    /// element.
    fn key(&self, key: &str) {
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
            ]}]}),
        );
    }

    /// Presses Tab until the focused element matches `css` (at most 60 times), as a person
    /// without a mouse moves through the page.
    fn tab_to(&self, css: &str) {
        let focused = format!(
            "return document.activeElement !== null && document.activeElement.matches({css:?})"
        );
        for _ in 0..60 {
            self.key(TAB);
            if self.js(&focused) == Value::Bool(true) {
                return;
            }
        }
        let at = self
            .js("const a = document.activeElement; return a ? a.outerHTML.slice(0, 200) : null");
        panic!("{css} never took the focus with Tab (last focused: {at})");
    }

    fn screenshot(&self, name: &str) {
        let v = self.cmd("GET", "/screenshot", json!({}));
        let png = base64_decode(v.as_str().expect("base64 PNG"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{}-{name}.png", self.kind.name())), png)
            .expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.raw("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (the WebDriver screenshot), decoded.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The WebDriver key codes used.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

const ROBOTS: usize = 50;
const FAILING: [&str; 2] = ["ds-r07", "ds-r23"];

/// 50 robots and the job; beside it, a deployment whose program exits at once and is not
/// restarted.
fn manifest() -> String {
    job_manifest()
        + &doc::package("ds-crash", "1.0.0", Some("never"), "echo crashing; exit 3")
        + &doc::deployment("ds-broken", "ds-crash", "1.0.0", "ds-r50", &[])
}

/// 50 robots; the job's pre-launch script fails on the two `FAILING` robots, but only once the
/// file `release` exists next to the manifest (so the page sees them fail live).
fn job_manifest() -> String {
    let robots: Vec<String> = (1..=ROBOTS)
        .map(|i| doc::robot(&format!("ds-r{i:02}")))
        .collect();
    let failing = FAILING.join(" ");
    let job = doc::Job {
        fleet: "ds-fleet",
        application: "ds-app",
        version: "1.0.0",
        pre_launch: "pre.sh",
        env: &[("FAILING", &failing)],
        concurrency: 20,
        threshold: 10,
        timeout: "5m",
    };
    doc::fleet("ds-fleet", &[("site", "dash")], &robots)
        + &doc::package(
            "ds-app",
            "1.0.0",
            Some("always"),
            "echo $ROBODEPLOY_ROBOT runs 1.0.0; while true; do sleep 1; done",
        )
        + &job.yaml()
        // A canary wave of 5, then the rest.
        + "    waves:\n      - {size: {robots: 5}}\n"
}

/// The rows of the job view's waves table: wave, state, failures against its threshold.
const WAVES: &str = "[...document.querySelectorAll('#job-waves tbody tr')]\
    .map(r => [r.dataset.wave, r.dataset.state, r.querySelector('.wave-failed').textContent])";

#[test]
fn the_dashboard_shows_a_live_50_robot_job_with_two_failures_in_chromium() {
    live_job(Kind::Chromium);
}

#[test]
fn the_dashboard_shows_a_live_50_robot_job_with_two_failures_in_firefox() {
    live_job(Kind::Firefox);
}

/// One browser test at a time: each runs a server, a 50-robot job and a browser, and two at
/// once on a small machine would measure the machine, not the page.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn live_job(kind: Kind) {
    let Some((driver, binary)) = browser(kind) else {
        return;
    };
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let server = Server::start(&format!("dashboard-{}", kind.name()));
    let dir = server.dir.path().to_path_buf();
    let release = dir.join("release");
    let pre = dir.join("pre.sh");
    std::fs::write(
        &pre,
        format!(
            "#!/bin/sh\nfor r in $FAILING; do if [ \"$r\" = \"$ROBODEPLOY_ROBOT\" ]; then \
             while [ ! -e {release} ]; do sleep 0.2; done; echo \"$r: not ready\" >&2; exit 1; fi; done; exit 0\n",
            release = release.display()
        ),
    )
    .expect("write pre.sh");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pre, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let file = dir.join("job.yaml");
    std::fs::write(&file, manifest()).expect("write manifest");
    let (url, token) = server.endpoint();

    let browser = Browser::start(kind, &driver, &binary);
    browser.go(&format!("{url}/#jobs"));
    browser.wait(
        Duration::from_secs(20),
        "the page",
        "return document.body.dataset.ready === '1'",
    );

    // The job starts while the page is open.
    let apply = server
        .command(&["apply", "-f", file.to_str().unwrap(), "--min-uptime", "1s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply");
    browser.wait(
        Duration::from_secs(60),
        "the job in the list",
        "return document.querySelectorAll('a[href^=\"#job/\"]').length === 1",
    );
    // To the job by keyboard: Tab to its link, Enter.
    browser.tab_to("a[href^=\"#job/\"]");
    browser.key(ENTER);
    browser.wait(
        Duration::from_secs(10),
        "the job view",
        "return document.body.dataset.view === 'job'",
    );

    // 48 robots succeed; the two failing ones hold their slots until released.
    let count = |status: &str| {
        format!(
            "const c = document.querySelector('.card[data-status={status}] .count'); \
             return c ? Number(c.textContent) : 0;"
        )
    };
    let count_is = |status: &str, n: u32| {
        format!("{} === {n}", count(status).trim_end_matches(';')).replace(
            "return c ? Number(c.textContent) : 0 ===",
            "return (c ? Number(c.textContent) : 0) ===",
        )
    };
    browser.wait(
        Duration::from_secs(240),
        "48 robots InSync",
        &count_is("InSync", 48),
    );
    assert_eq!(browser.js(&count("Failed")), json!(0));
    // The canary wave completed; the second deploys, the two failing robots still in flight,
    // each with an ETA.
    browser.wait(
        Duration::from_secs(10),
        "the waves",
        &format!(
            "return JSON.stringify({WAVES}) === '{}';",
            json!([["1", "Completed", "0 of 1"], ["2", "Deploying", "0 of 5"]])
        ),
    );
    for robot in FAILING {
        let eta = browser.js(&format!(
            "return document.querySelector('#job-robots tr[data-robot={robot}] .eta').textContent"
        ));
        let eta = eta.as_str().unwrap_or_default();
        assert!(
            eta == "now"
                || eta
                    .strip_suffix(" s")
                    .is_some_and(|n| n.parse::<u32>().is_ok()),
            "{robot}: ETA {eta:?}"
        );
    }
    let threshold = browser.js("return document.querySelector('#threshold').innerText");
    assert!(
        threshold
            .as_str()
            .is_some_and(|t| t.contains("Failed 0 of threshold 5")),
        "{threshold}"
    );
    // The timeline: a lane per robot, bars on the 48 that ran.
    browser.wait(
        Duration::from_secs(10),
        "the timeline's lanes",
        "const s = document.querySelector('#timeline svg'); \
         return s !== null && s.querySelectorAll('.lane').length === 50 && \
           [...s.querySelectorAll('.lane')].filter(l => l.querySelector('.bar')).length >= 48;",
    );
    assert_eq!(
        browser.js(
            "return document.querySelector('#timeline svg .threshold').getAttribute('data-value')"
        ),
        json!("5")
    );
    assert_eq!(
        browser
            .js("return document.querySelector('#timeline svg .limit').getAttribute('data-value')"),
        json!("10")
    );

    // Release the two: the page shows them fail without a reload.
    let before = browser.js("return window.__rd.events");
    std::fs::write(&release, "").expect("release");
    browser.wait(
        Duration::from_secs(60),
        "2 robots Failed",
        &count_is("Failed", 2),
    );
    assert!(browser.js("return window.__rd.events").as_u64() > before.as_u64());
    assert_eq!(
        browser.js("return performance.getEntriesByType('navigation').length"),
        json!(1),
        "no reload"
    );
    for robot in FAILING {
        let row = format!("#job-robots tr[data-robot={robot}]");
        assert_eq!(
            browser.js(&format!(
                "return document.querySelector('{row} .failure').textContent"
            )),
            json!("PreLaunchFileFailure")
        );
        let detail = browser.js(&format!(
            "return document.querySelector('{row} .failure-detail').textContent"
        ));
        assert!(
            detail
                .as_str()
                .is_some_and(|d| d.contains(&format!("{robot}: not ready"))),
            "{robot}: {detail}"
        );
    }
    browser.wait(
        Duration::from_secs(10),
        "the failures on the timeline",
        "const m = [...document.querySelectorAll('#timeline svg .failure')]; \
         return m.length === 2 && m.every(x => x.getAttribute('data-code') === 'PreLaunchFileFailure');",
    );
    // The second wave completes with its two failures, within its share of the threshold.
    browser.wait(
        Duration::from_secs(30),
        "the second wave completed",
        &format!(
            "return JSON.stringify({WAVES}) === '{}';",
            json!([["1", "Completed", "0 of 1"], ["2", "Completed", "2 of 5"]])
        ),
    );
    let out = apply.wait_with_output().expect("apply");
    assert!(out.status.code().is_some(), "{}", explain(&out));
    // The page agrees with the server's own report.
    let job_id = browser.js("return location.hash.slice(5)");
    let report =
        common::json(&server.cli(&["describe", "job", job_id.as_str().unwrap(), "-o", "json"]));
    let mut failed: Vec<&str> = report["robots"]
        .as_array()
        .expect("robots")
        .iter()
        .filter(|r| r["failure"] == "PreLaunchFileFailure")
        .map(|r| r["robot"].as_str().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, FAILING, "{report}");
    assert_eq!(
        browser.js("return document.querySelector('#job-status').textContent.trim()"),
        report["status"]
    );
    browser.screenshot("job");

    // Without the token, an action is refused by the server, and the page says so.
    let status_before = browser.js("return window.__rd.jobs.get(location.hash.slice(5)).status");
    // By keyboard too: Tab to the button, Enter.
    browser.tab_to("#rollback");
    browser.key(ENTER);
    browser.wait(
        Duration::from_secs(10),
        "the refusal",
        "const n = document.querySelector('#notice'); \
         return n.className === 'refused' && n.textContent.includes('HTTP 401');",
    );
    let report =
        common::json(&server.cli(&["describe", "job", job_id.as_str().unwrap(), "-o", "json"]));
    assert_eq!(report["status"], status_before, "{report}");
    assert!(
        report.get("rollback").is_none(),
        "nothing rolled back: {report}"
    );

    // The fleet view: every robot, with runtime, architecture, online state, what runs, status.
    browser.click("#nav-fleet");
    browser.wait(
        Duration::from_secs(10),
        "the fleet view",
        "return document.body.dataset.view === 'fleet'",
    );
    assert_eq!(
        browser.js("return document.querySelector('#fleet-count').textContent"),
        json!("50 of 50 robots, page 1 of 1")
    );
    let row = "#fleet-table tr[data-robot=ds-r01]";
    let cells = browser.js(&format!(
        "return [...document.querySelectorAll('{row} td')].map(t => t.textContent.trim())"
    ));
    assert_eq!(cells[0], "ds-r01");
    assert_eq!(cells[1], "ds-fleet");
    assert_eq!(cells[2], "preinstalled");
    assert_eq!(cells[3], "amd64");
    assert!(cells[4].as_str().unwrap().contains("online"), "{cells}");
    assert!(
        cells[5].as_str().unwrap().contains("ds-app"),
        "runs the job's app: {cells}"
    );
    assert!(cells[6].as_str().unwrap().contains("Running"), "{cells}");
    // A failed robot runs nothing of the job.
    let failed_cells = browser.js("return [...document.querySelectorAll('#fleet-table tr[data-robot=ds-r07] td')].map(t => t.textContent.trim())");
    assert_eq!(failed_cells[5], "—", "{failed_cells}");
    // Filter by status: the two failed robots are Idle.
    browser.js("const s = document.querySelector('#f-status'); s.value = 'Idle'; s.dispatchEvent(new Event('change'));");
    // The job's end can reach the page a moment before the last robot's placement does (each is
    // its own event): the view converges live, without a reload.
    browser.wait(
        Duration::from_secs(10),
        "only the two failed robots Idle",
        &format!(
            "return JSON.stringify([...document.querySelectorAll('#fleet-table tbody tr')].map(r => r.dataset.robot)) === '{}';",
            json!(FAILING)
        ),
    );
    assert_eq!(
        browser.js("return [...document.querySelectorAll('#fleet-table tbody tr')].map(r => r.dataset.robot)"),
        json!(FAILING)
    );
    // Filter by label (key, key=value) and by fleet.
    browser.js("const s = document.querySelector('#f-status'); s.value = ''; s.dispatchEvent(new Event('change'));");
    for (label, shown) in [
        ("site=dash", 50),
        ("site", 50),
        ("site=elsewhere", 0),
        ("", 50),
    ] {
        browser.js(&format!(
            "const l = document.querySelector('#f-label'); l.value = '{label}'; l.dispatchEvent(new Event('input'));"
        ));
        assert_eq!(
            browser.js("return document.querySelector('#fleet-count').textContent"),
            json!(format!("{shown} of 50 robots, page 1 of 1")),
            "label {label:?}"
        );
    }
    browser.js("const f = document.querySelector('#f-fleet'); f.value = 'ds-fleet'; f.dispatchEvent(new Event('change'));");
    assert_eq!(
        browser.js("return document.querySelector('#fleet-count').textContent"),
        json!("50 of 50 robots, page 1 of 1")
    );
    browser.js("const f = document.querySelector('#f-fleet'); f.value = ''; f.dispatchEvent(new Event('change'));");
    browser.screenshot("fleet");

    // A deployment with the token: the log tail follows.
    browser.type_into("#token", &token);
    browser.click("#token-save");
    assert_eq!(
        browser.js("return document.querySelector('#token-state').textContent"),
        json!("token set: actions enabled")
    );
    assert_eq!(
        browser.js("return document.querySelector('#notice').textContent"),
        json!(""),
        "the refusal for want of a token is gone once one is set"
    );
    browser.js("const s = document.querySelector('#f-status'); s.value = ''; s.dispatchEvent(new Event('change'));");
    browser.click(&format!("{row} a"));
    browser.wait(
        Duration::from_secs(10),
        "the deployment view",
        "return document.body.dataset.view === 'deployment'",
    );
    assert_eq!(
        browser.js("return document.querySelector('.phases li.current').textContent"),
        json!("Succeeded")
    );
    browser.wait(
        Duration::from_secs(20),
        "the log",
        "return document.querySelector('#log').textContent.includes('ds-r01 runs 1.0.0');",
    );
    browser.screenshot("deployment");

    // A deployment in error: its code with the seed's description and recommended action.
    let broken = common::json(&server.cli(&["describe", "deployment", "ds-broken", "-o", "json"]));
    assert_eq!(broken["errors"][0]["code"], "DEP_E152", "{broken}");
    browser.go(&format!("{url}/#deployment/ds-broken"));
    browser.wait(
        Duration::from_secs(20),
        "the deployment's error",
        "return document.querySelector('.error-code[data-code=DEP_E152]') !== null",
    );
    assert_eq!(
        browser.js("return document.querySelector('.error-code[data-code=DEP_E152] .description').textContent"),
        json!("executables of the component deployed on the device either exited too early or failed")
    );
    assert_eq!(
        browser.js(
            "return document.querySelector('.error-code[data-code=DEP_E152] .action').textContent"
        ),
        json!("Recommended action: troubleshoot the failed component by analyzing deployment logs")
    );
    // Its output stays readable after it exited.
    browser.wait(
        Duration::from_secs(20),
        "the exited program's log",
        "return document.querySelector('#log').textContent.includes('crashing');",
    );
    browser.screenshot("deployment-error");
}

/// The figures in BENCHMARKS.md ("Dashboard"), by hand:
/// `cargo test --release -p robodeploy-cli --test dashboard -- --ignored --nocapture`.
/// Prints the page's ready time with a 10,000-robot fleet (navigation start to the first render
/// of the snapshot, the median of 5 loads) and the time from an engine event (a deployment
/// snapshot's `at`) to the page showing it (p50, p95 over a 50-robot job's events).
#[test]
#[ignore = "a benchmark: run by hand, figures in BENCHMARKS.md"]
fn dashboard_figures() {
    let Some((driver, chromium)) = browser(Kind::Chromium) else {
        return;
    };
    let server = Server::start("dashboard-bench");
    let dir = server.dir.path().to_path_buf();
    let robots: Vec<String> = (0..10_000)
        .map(|i| doc::robot(&format!("big-{i:05}")))
        .collect();
    let fleet = dir.join("fleet.yaml");
    std::fs::write(&fleet, doc::fleet("big", &[("site", "bench")], &robots)).expect("fleet");
    server.apply_up(fleet.to_str().unwrap());
    let (url, _) = server.endpoint();
    let browser = Browser::start(Kind::Chromium, &driver, &chromium);
    let mut ready = Vec::new();
    for _ in 0..5 {
        browser.go("about:blank");
        browser.go(&format!("{url}/#fleet"));
        browser.wait(Duration::from_secs(60), "ready", "return window.__rd !== undefined && window.__rd.readyAt > 0 && document.querySelectorAll('#fleet-table tbody tr').length === 100");
        ready.push(browser.js("return window.__rd.readyAt").as_f64().unwrap());
    }
    ready.sort_by(f64::total_cmp);
    let count = browser.js("return document.querySelector('#fleet-count').textContent");
    println!(
        "page ready with 10,000 robots: median {:.0} ms (all {ready:?}); {count}",
        ready[2]
    );

    // Events: a 50-robot job, every robot passing.
    std::fs::write(dir.join("pre.sh"), "#!/bin/sh\nexit 0\n").expect("pre.sh");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("pre.sh"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let job = dir.join("job.yaml");
    // The job alone (the crashing deployment would make `apply` fail, as it should).
    std::fs::write(&job, job_manifest().replace(&FAILING.join(" "), "none")).expect("job");
    browser.js("window.__rd.latencies.length = 0; return true;");
    let out = server.cli(&["apply", "-f", job.to_str().unwrap(), "--min-uptime", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    std::thread::sleep(Duration::from_secs(1));
    let mut lat: Vec<f64> = browser
        .js("return window.__rd.latencies")
        .as_array()
        .expect("latencies")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert!(!lat.is_empty(), "no deployment event reached the page");
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize];
    println!(
        "engine event to page: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms over {} deployment events",
        q(0.5),
        q(0.95),
        lat[lat.len() - 1],
        lat.len()
    );
}
