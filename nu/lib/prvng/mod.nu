# The protocol every prvng Nushell script speaks (see DESIGN.md section 4):
# the request arrives as JSON on stdin, the answer is a JSON envelope written to
# the file the request names. stdout and stderr are logs only.

# Run one step: parse the request, call `body` with it, write the envelope.
export def step [body: closure] {
  let req = $in | from json
  let envelope = try {
    {ok: true, data: (do $body $req)}
  } catch {|e|
    {ok: false, error: {kind: "ScriptFailure", message: ($e.msg | default "script error")}}
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
export def install-staged [req: record] {
  let files = glob ($req.work_dir | path join "**" "*") --no-dir
    | each {|p| $p | path relative-to $req.work_dir }
    | sort
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

def record-path [req: record] {
  $req.target.root | path join "var" "lib" "prvng" "taskservs" $"($req.extension.name).files.json"
}
