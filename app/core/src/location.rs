//! Where the device is, behind a small trait: GeoClue2 over D-Bus on Linux when it is running,
//! else the manual fallback (the person types the position or describes the place).
//!
//! GeoClue2 is reached through stock command-line tools rather than a D-Bus crate: `gdbus`
//! (libglib2.0-bin) tells whether the GeoClue2 service answers on the system bus, and GeoClue's
//! own client, `where-am-i` (geoclue-2-demo), asks it for a fix. GeoClue binds a client object
//! to the D-Bus connection that created it, so one process must create, start and read the
//! client; separate `gdbus call`s cannot. Every tool runs with a timeout; a missing tool or
//! service reads as "not available". Plain Rust, no Slint: the GUI calls [`system`] off the UI
//! thread.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A position fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// WGS84 latitude in degrees.
    pub lat: f64,
    /// WGS84 longitude in degrees.
    pub lon: f64,
    /// 68% radius in metres, when the source reports it.
    pub accuracy_m: Option<f64>,
}

/// Why no fix came back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LocationError {
    /// No location service on this device: type the position or describe the place.
    #[error("no location service is available on this device")]
    NotAvailable,
    /// The service answered but had no fix within the time allowed.
    #[error("no position fix within {0} seconds")]
    NoFix(u64),
    /// The service or its tool failed.
    #[error("the location service failed: {0}")]
    Failed(String),
}

/// Anything that can say where the device is.
pub trait LocationSource: Send {
    /// The current position, or why there is none.
    fn current(&self) -> Result<Fix, LocationError>;
}

/// The fallback: no positioning; the form's manual entry is the source.
#[derive(Debug, Clone, Copy, Default)]
pub struct Manual;

impl LocationSource for Manual {
    fn current(&self) -> Result<Fix, LocationError> {
        Err(LocationError::NotAvailable)
    }
}

/// How long GeoClue may take to find a fix.
pub const FIX_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `gdbus` may take to say whether GeoClue runs.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Where GeoClue's `where-am-i` client is installed on Debian, Ubuntu and Fedora.
const WHERE_AM_I: [&str; 3] = [
    "/usr/libexec/geoclue-2.0/demos/where-am-i",
    "/usr/lib/geoclue-2.0/demos/where-am-i",
    "/usr/libexec/geoclue-2.0/where-am-i",
];

/// GeoClue2 on the system D-Bus.
#[derive(Debug, Clone)]
pub struct GeoClue {
    client: PathBuf,
    timeout: Duration,
}

impl GeoClue {
    /// GeoClue2, when `gdbus` finds its service on the system bus and its client is installed.
    pub fn detect() -> Option<GeoClue> {
        let gdbus = find_program("gdbus")?;
        let client = WHERE_AM_I
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())?
            .to_path_buf();
        let mut probe = Command::new(gdbus);
        probe.args([
            "introspect",
            "--system",
            "--dest",
            "org.freedesktop.GeoClue2",
            "--object-path",
            "/org/freedesktop/GeoClue2/Manager",
        ]);
        let (output, _) = run_with_timeout(probe, PROBE_TIMEOUT, |_| false).ok()?;
        geoclue_answers(&output).then_some(GeoClue {
            client,
            timeout: FIX_TIMEOUT,
        })
    }
}

impl LocationSource for GeoClue {
    fn current(&self) -> Result<Fix, LocationError> {
        let mut command = Command::new(&self.client);
        // Accuracy level 8 is "exact" (GPS); -t ends the client after the timeout.
        command.args(["-a", "8", "-t", &self.timeout.as_secs().to_string()]);
        let (output, _) = run_with_timeout(command, self.timeout + Duration::from_secs(2), |out| {
            parse_where_am_i(out).is_some()
        })
        .map_err(|e| LocationError::Failed(e.to_string()))?;
        parse_where_am_i(&output).ok_or(LocationError::NoFix(self.timeout.as_secs()))
    }
}

/// GeoClue2 when it is there (Linux), else the manual fallback.
pub fn system() -> Box<dyn LocationSource> {
    #[cfg(target_os = "linux")]
    if let Some(geoclue) = GeoClue::detect() {
        return Box::new(geoclue);
    }
    Box::new(Manual)
}

/// Whether `gdbus introspect` output shows the GeoClue2 manager interface.
pub fn geoclue_answers(introspection: &str) -> bool {
    introspection.contains("interface org.freedesktop.GeoClue2.Manager")
}

/// The first complete fix in the output of GeoClue's `where-am-i`:
///
/// ```text
/// Latitude:    48.015900°
/// Longitude:   37.802800°
/// Accuracy:    20.000000 meters
/// ```
pub fn parse_where_am_i(output: &str) -> Option<Fix> {
    let mut lat = None;
    let mut lon = None;
    for line in output.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let number = || -> Option<f64> {
            let text: String = value
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                .collect();
            text.parse::<f64>().ok().filter(|n| n.is_finite())
        };
        match key.trim() {
            "Latitude" => lat = number().filter(|n| (-90.0..=90.0).contains(n)),
            "Longitude" => lon = number().filter(|n| (-180.0..=180.0).contains(n)),
            "Accuracy" => {
                if let (Some(lat), Some(lon)) = (lat, lon) {
                    return Some(Fix {
                        lat,
                        lon,
                        accuracy_m: number().filter(|n| *n >= 0.0),
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// The first `name` on `PATH` that is a file.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs `command`, collecting its stdout until it exits, `done` says the output is enough, or
/// `timeout` passes; the process is killed in the last two cases. Returns the output and
/// whether the process exited by itself.
fn run_with_timeout(
    mut command: Command,
    timeout: Duration,
    done: impl Fn(&str) -> bool,
) -> std::io::Result<(String, bool)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut output = String::new();
    let mut exited = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(line) => {
                output.push_str(&line);
                output.push('\n');
                if done(&output) {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                exited = true;
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    Ok((output, exited))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_am_i_output_gives_a_fix() {
        let out = "Client object: /org/freedesktop/GeoClue2/Client/1\n\nNew location:\n\
                   Latitude:    48.015900°\nLongitude:   37.802800°\nAccuracy:    20.000000 meters\n\
                   Altitude:    120.000000 meters\nDescription: GPS\n";
        let fix = parse_where_am_i(out).expect("a fix");
        assert_eq!(fix.lat, 48.0159);
        assert_eq!(fix.lon, 37.8028);
        assert_eq!(fix.accuracy_m, Some(20.0));
        let west = "Latitude: -33.5°\nLongitude: -70.25°\nAccuracy: 5 meters\n";
        let fix = parse_where_am_i(west).expect("southern and western");
        assert_eq!((fix.lat, fix.lon), (-33.5, -70.25));
    }

    #[test]
    fn partial_or_bad_output_is_no_fix() {
        assert_eq!(parse_where_am_i(""), None);
        assert_eq!(parse_where_am_i("Latitude: 48.0°\n"), None);
        assert_eq!(
            parse_where_am_i("Latitude: 48.0°\nLongitude: 37.8°\n"),
            None,
            "a fix is complete once its accuracy is printed"
        );
        assert_eq!(
            parse_where_am_i("Latitude: 95.0°\nLongitude: 37.8°\nAccuracy: 3 meters\n"),
            None,
            "out of range"
        );
        assert_eq!(
            parse_where_am_i("Latitude: north\nLongitude: 37.8°\nAccuracy: 3 meters\n"),
            None
        );
    }

    #[test]
    fn gdbus_introspection_tells_whether_geoclue_runs() {
        let out = "node /org/freedesktop/GeoClue2/Manager {\n  interface org.freedesktop.GeoClue2.Manager {\n    methods:\n      GetClient(out o client);\n";
        assert!(geoclue_answers(out));
        assert!(!geoclue_answers(
            "Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.GeoClue2 was not provided"
        ));
    }

    #[test]
    fn manual_is_never_a_fix() {
        assert_eq!(Manual.current(), Err(LocationError::NotAvailable));
    }

    #[test]
    fn a_silent_tool_is_stopped_at_the_timeout() {
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let started = Instant::now();
        let (out, exited) =
            run_with_timeout(sleep, Duration::from_millis(300), |_| false).expect("runs");
        assert!(out.is_empty());
        assert!(!exited);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
