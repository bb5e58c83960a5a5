# The protocol every prvng Nushell script speaks (see DESIGN.md section 4):
# the request arrives as JSON on stdin, the answer is a JSON envelope written to
# the file the request names. stdout and stderr are logs only.

# Run one step: parse the request, call `body` with it, write the envelope.
# An error is a ScriptFailure unless its message starts with a "[Kind] " prefix
# (e.g. "[ProviderError] ..."): then the script chose the kind, and the prefix
# moves from the message into the envelope's `kind`.
export def step [body: closure] {
  let req = $in | from json
  let envelope = try {
    {ok: true, data: (do $body $req)}
  } catch {|e|
    let msg = $e.msg | default "script error"
    let tagged = $msg | parse --regex '(?s)^\[(?<kind>[A-Z][A-Za-z]*)\] (?<message>.*)$'
    let error = if ($tagged | is-empty) {
      {kind: "ScriptFailure", message: $msg}
    } else {
      $tagged | first
    }
    {ok: false, error: $error}
  }
  $envelope | to json --raw | save --force $req.result_file
}

# Write rendered configuration into the staging folder of this step.
# `files` is a list of {path, content}; paths are relative to the target root.
export def stage [req: record, files: list] {
  rm --recursive --force $req.work_dir
  mkdir $req.work_dir
  $files | each {|f|
    let dest = $req.work_dir | path join $f.path
    mkdir ($dest | path dirname)
    $f.content | save --force $dest
    $f.path
  }
}

# Copy every staged file into the target root and record what was written,
# so verify and uninstall know exactly which files belong to this taskserv.
# Re-running it writes the same files and the same record (idempotent).
# Nothing staged means configure never ran (or ran elsewhere): recording an empty
# install would let verify and uninstall believe there is nothing to do.
export def install-staged [req: record] {
  let files = if ($req.work_dir | path exists) {
    glob ($req.work_dir | path join "**" "*") --no-dir
      | each {|p| $p | path relative-to $req.work_dir }
      | sort
  } else { [] }
  if ($files | is-empty) {
    error make {msg: $"nothing staged for ($req.extension.name): run configure first"}
  }
  for f in $files {
    let dest = $req.target.root | path join $f
    mkdir ($dest | path dirname)
    cp --force ($req.work_dir | path join $f) $dest
  }
  let record = record-path $req
  mkdir ($record | path dirname)
  {name: $req.extension.name, version: $req.extension.version, files: $files} | to json | save --force $record
  $files
}

# The files a previous install recorded for this taskserv ([] when none).
export def recorded-files [req: record] {
  let record = record-path $req
  if ($record | path exists) { open $record | get files } else { [] }
}

# Remove what install-staged wrote, then its record.
export def uninstall-recorded [req: record] {
  let files = recorded-files $req
  for f in $files { rm --force ($req.target.root | path join $f) }
  rm --force (record-path $req)
  $files
}

# One verification check.
export def check [name: string, ok: bool, detail: string = ""] {
  {name: $name, ok: $ok, detail: $detail}
}

# Check that a recorded file exists and parses in its format (toml, yaml, json).
export def check-parses [req: record, path: string] {
  let full = $req.target.root | path join $path
  if not ($full | path exists) {
    return (check $"($path) exists" false "missing")
  }
  let parsed = try { open $full | ignore; true } catch { false }
  check $"($path) parses" $parsed (if $parsed { "" } else { "not valid for its format" })
}

# A check per recorded file, plus one that something was installed at all:
# the usual start of a taskserv's verify.
export def file-checks [req: record] {
  let files = recorded-files $req
  $files | each {|f| check-parses $req $f }
    | prepend (check "installed" ($files | is-not-empty) (if ($files | is-empty) { "no install record" } else { "" }))
}

# An installed file (path relative to the target root) parsed by its file extension,
# or null when missing or unreadable, so verify compares instead of failing.
export def read-back [req: record, path: string] {
  try { open ($req.target.root | path join $path) } catch { null }
}

# Settings: the manifest's [settings] table holds the defaults and, by their types,
# the schema. `manifest` is the script's own extension.toml
# (`const MANIFEST = path self extension.toml`: only the script knows where it is).
# Unknown keys, wrong types and line breaks fail naming the setting; scripts add
# their own value checks with the want-* helpers below.
export def settings [req: record, manifest: path] {
  let defaults = open $manifest | get settings? | default {}
  let given = $req.settings? | default {}
  for key in ($given | columns) {
    if $key not-in $defaults {
      let known = if ($defaults | is-empty) { "none" } else { $defaults | columns | str join ', ' }
      error make {msg: $"unknown setting '($key)'; known settings: ($known)"}
    }
    let value = $given | get $key
    let want = $defaults | get $key | describe | split row '<' | first
    let got = $value | describe | split row '<' | first
    if $got != $want { error make {msg: $"setting '($key)' must be of type ($want), got ($got)"} }
    # Values land on one line of a config file; a line break would inject more.
    if ([$value] | flatten | any {|x| ($x | describe) == "string" and $x =~ '[\r\n]' }) {
      error make {msg: $"setting '($key)' must not contain a line break"}
    }
  }
  $defaults | merge $given
}

# Setting `key` of `s` is a TCP/UDP port.
export def want-port [s: record, key: string] {
  let p = $s | get $key
  if $p < 1 or $p > 65535 { error make {msg: $"setting '($key)' must be a port in 1..65535, got ($p)"} }
}

# Setting `key` of `s` is one of `allowed`.
export def want-one-of [s: record, key: string, allowed: list] {
  let v = $s | get $key
  if $v not-in $allowed { error make {msg: $"setting '($key)' must be one of ($allowed | str join ', '), got '($v)'"} }
}

# Setting `key` of `s` is a number >= `min` (0 reads "must not be negative").
export def want-at-least [s: record, key: string, min: int] {
  let v = $s | get $key
  if $v < $min {
    let rule = if $min == 0 { "must not be negative" } else { $"must be at least ($min)" }
    error make {msg: $"setting '($key)' ($rule), got ($v)"}
  }
}

# Setting `key` of `s` is an absolute path: a relative one would depend on the
# service's working directory.
export def want-absolute [s: record, key: string] {
  if not ($s | get $key | str starts-with "/") { error make {msg: $"setting '($key)' must be an absolute path"} }
}

# Providers: the request's credentials, after checking that every key the manifest's
# [credentials.required] lists (key = environment variable) is there. A missing one
# is a ProviderError naming the variables to set: the operator fixes it, not the script.
export def want-credentials [req: record, manifest: path, provider: string] {
  let creds = $req.credentials? | default {}
  let missing = open $manifest | get credentials?.required? | default {} | transpose key env
    | where {|c| $creds | get -o $c.key | is-empty }
  if ($missing | is-not-empty) {
    error make {msg: $"[ProviderError] ($provider): missing credentials ($missing.key | str join ', '); set ($missing.env | str join ' and ') in the worker's environment"}
  }
  $creds
}

def record-path [req: record] {
  $req.target.root | path join "var" "lib" "prvng" "taskservs" $"($req.extension.name).files.json"
}
