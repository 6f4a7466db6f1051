package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// runCompletion prints a completion script built from the command table,
// so completions never drift from the real commands and flags.
func runCompletion(_ context.Context, args []string, e env) int {
	fs := newFlagSet("completion")
	if err := fs.Parse(args); err != nil {
		return flagError(fs, err, e)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "ecsnet completion: name a shell: bash, zsh or fish")
		return exitError
	}
	switch fs.Arg(0) {
	case "bash":
		completionBash(e.stdout)
	case "zsh":
		completionZsh(e.stdout)
	case "fish":
		completionFish(e.stdout)
	default:
		fmt.Fprintf(e.stderr, "ecsnet completion: unsupported shell %q (bash, zsh or fish)\n", fs.Arg(0))
		return exitError
	}
	return exitOK
}

func flagNames(fs *pflag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *pflag.Flag) {
		out = append(out, "--"+f.Name)
		if f.Shorthand != "" {
			out = append(out, "-"+f.Shorthand)
		}
	})
	return out
}

func completionBash(w io.Writer) {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `# bash completion for ecsnet; load with: source <(ecsnet completion bash)
_ecsnet() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W %q -- "$cur"))
        return
    fi
    local flags=""
    case ${COMP_WORDS[1]} in
`, strings.Join(names, " "))
	for _, c := range commands() {
		fmt.Fprintf(w, "        %s) flags=%q ;;\n", c.name, strings.Join(append(flagNames(c.flags()), "--help"), " "))
	}
	fmt.Fprint(w, `    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _ecsnet ecsnet
`)
}

func completionZsh(w io.Writer) {
	fmt.Fprint(w, "#compdef ecsnet\n# zsh completion for ecsnet; load with: source <(ecsnet completion zsh)\n_ecsnet() {\n  local -a cmds\n  cmds=(\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "    %q\n", c.name+":"+c.summary)
	}
	fmt.Fprint(w, "  )\n  if (( CURRENT == 2 )); then\n    _describe 'command' cmds\n    return\n  fi\n  case $words[2] in\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "    %s) _arguments '*:file:_files'", c.name)
		for _, f := range append(flagNames(c.flags()), "--help") {
			fmt.Fprintf(w, " '%s[]'", f)
		}
		fmt.Fprint(w, " ;;\n")
	}
	fmt.Fprint(w, "  esac\n}\ncompdef _ecsnet ecsnet\n")
}

func completionFish(w io.Writer) {
	fmt.Fprintln(w, "# fish completion for ecsnet; load with: ecsnet completion fish | source")
	for _, c := range commands() {
		fmt.Fprintf(w, "complete -c ecsnet -n __fish_use_subcommand -a %s -d %q\n", c.name, c.summary)
		c.flags().VisitAll(func(f *pflag.Flag) {
			short := ""
			if f.Shorthand != "" {
				short = " -s " + f.Shorthand
			}
			fmt.Fprintf(w, "complete -c ecsnet -n '__fish_seen_subcommand_from %s' -l %s%s -d %q\n", c.name, f.Name, short, f.Usage)
		})
	}
}
