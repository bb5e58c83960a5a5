# provisioning module discover / load, called by the TypeScript NushellRunner.
# Arguments never travel in argv: the request is JSON on stdin (see lib/prvng).
use prvng

def main [] {}

# Every manifest of one type in one call. A manifest that cannot be read is
# returned as its own entry with the error, so one broken file never hides the rest.
def "main module discover" [] {
  $in | prvng step {|req|
    let base = $req.extensions_dir | path join $"($req.type)s"
    let name = $req.name? | default "*"
    if not ($base | path exists) { return [] }
    glob ($base | path join $name "*" "extension.toml") --no-dir | sort | each {|file|
      read-manifest $file
    }
  }
}

# One extension at one exact version: its manifest and the files it ships.
def "main module load" [] {
  $in | prvng step {|req|
    let dir = $req.extensions_dir | path join $"($req.type)s" $req.name $req.version
    let entry = read-manifest ($dir | path join "extension.toml")
    if not $entry.ok { return $entry }
    let files = glob ($dir | path join "**" "*") --no-dir | each {|p| $p | path relative-to $dir } | sort
    $entry | insert files $files
  }
}

def read-manifest [file: string] {
  let dir = $file | path dirname
  let location = {
    file: $file
    name: ($dir | path dirname | path basename)
    version: ($dir | path basename)
    dir: $dir
  }
  try {
    $location | merge {ok: true, manifest: (open --raw $file | from toml)}
  } catch {|e|
    # `help` holds the parser's line and column; `msg` alone says only "can't convert".
    let help = $e.details?.help? | default ""
    $location | merge {ok: false, error: ([($e.msg | default "unreadable manifest") $help] | str join " " | str trim)}
  }
}
