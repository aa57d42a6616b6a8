#!/usr/bin/env bash
# Runs the CLI guide's end-to-end workflow with the `sandbox` tool against a local server it starts, and writes a
# transcript (commands and their real output) to artifacts/cli-walkthrough.txt. Needs root, tmux, openssh
# (bash eng/install-deps.sh). Rerun any time: every resource it makes lives in a temporary folder and is deleted.
set -euo pipefail
set -m   # job control: the background server and tunnel keep a normal Ctrl+C (SIGINT) disposition
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/artifacts/cli-walkthrough.txt"
mkdir -p "$(dirname "$out")"
work=$(mktemp -d /tmp/sandbox-cli-walkthrough.XXXXXX)
dotnet build src/Sandbox.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
# A private copy of the build, so a rebuild of the working tree cannot change the binaries under a running walkthrough.
cp -r "$root/src/Sandbox.Cli/bin/Release/net10.0" "$work/cli"
dll="$work/cli/sandbox.dll"
sandbox() { dotnet "$dll" "$@"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SANDBOX_SERVER_API_KEY="walkthrough-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server_pid=""; tunnel_pid=""
cleanup() {
  [[ -n "$tunnel_pid" ]] && kill -TERM "$tunnel_pid" 2>/dev/null || true
  tmux -L sandbox-walkthrough kill-server 2>/dev/null || true
  [[ -n "$server_pid" ]] && { kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

exec > >(tee "$out") 2>&1
step() { printf '\n## %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
run() { show "sandbox $*"; sandbox "$@"; echo "[exit $?]"; }

echo "# sandbox CLI walkthrough ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr))"
step "Start the local server (sandbox server) and point the CLI at it"
show "sandbox server --urls http://127.0.0.1:$port --data-dir $work/data &"
dotnet "$dll" server --urls "http://127.0.0.1:$port" --data-dir "$work/data" > "$work/server.log" 2>&1 &   # not the function: $! must be the CLI itself
server_pid=$!
for _ in $(seq 100); do grep -q "Press Ctrl+C" "$work/server.log" 2>/dev/null && break; sleep 0.2; done
grep -v '^info\|^      ' "$work/server.log"
export LANGSMITH_ENDPOINT="http://127.0.0.1:$port" LANGSMITH_API_KEY="$SANDBOX_SERVER_API_KEY"
show 'export LANGSMITH_ENDPOINT=http://127.0.0.1:'"$port"' LANGSMITH_API_KEY=...'

step "Create a sandbox and run commands in it"
run create my-vm --vcpus 2 --memory 1gb --wait
run exec my-vm -- python3 --version
run exec my-vm -- uname -s
show "sandbox exec my-vm -- sh -c 'echo to-stderr >&2; exit 3'"
sandbox exec my-vm -- sh -c 'echo to-stderr >&2; exit 3' || echo "[exit $?]"
show "printf 'alpha\\nbeta\\n' | sandbox exec my-vm -- wc -l"
printf 'alpha\nbeta\n' | sandbox exec my-vm -- wc -l; echo "[exit $?]"

step "Capture a snapshot from the running sandbox, and boot a second sandbox from it"
sandbox exec my-vm -- sh -c 'pip --version >/dev/null 2>&1; echo "prepared in my-vm" > /home/user/ready.txt'
show "sandbox exec my-vm -- sh -c 'echo \"prepared in my-vm\" > /home/user/ready.txt'"
show "sandbox snapshot capture ml-ready --box my-vm --wait"
snapshot_json=$(sandbox snapshot capture ml-ready --box my-vm --wait); echo "$snapshot_json"
snapshot_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$snapshot_json")
run --format pretty snapshot list
run snapshot wait "$snapshot_id"
run create from-snapshot --snapshot-id "$snapshot_id" --wait
run exec from-snapshot -- cat /home/user/ready.txt

step "List, inspect, update, stop and start"
run --format pretty list
run update my-vm --vcpus 1 --memory 512mb
printf '{"rules": [], "access_control": {"allow_list": ["pypi.org"], "deny_list": []}}\n' > "$work/proxy.json"
run update my-vm --proxy-config "@$work/proxy.json"
run stop my-vm
run start my-vm --wait
run --format pretty get my-vm

step "Interactive console (a real terminal: tmux; keys typed, screen captured)"
tmux -L sandbox-walkthrough new-session -d -s console -x 100 -y 24 \
  -e "LANGSMITH_ENDPOINT=$LANGSMITH_ENDPOINT" -e "LANGSMITH_API_KEY=$LANGSMITH_API_KEY" \
  "dotnet '$dll' console my-vm; echo \"[console exit \$?]\"; sleep 600"
for _ in $(seq 100); do tmux -L sandbox-walkthrough capture-pane -p -t console | grep -q 'root@sandbox' && break; sleep 0.2; done
tmux -L sandbox-walkthrough send-keys -t console -l 'python3 -c "print(6*7)"; stty size; tty'; tmux -L sandbox-walkthrough send-keys -t console Enter
sleep 2
tmux -L sandbox-walkthrough resize-window -t console -x 120 -y 30; sleep 2
tmux -L sandbox-walkthrough send-keys -t console -l 'stty size'; tmux -L sandbox-walkthrough send-keys -t console Enter; sleep 1.5
tmux -L sandbox-walkthrough send-keys -t console -l 'exit 4'; tmux -L sandbox-walkthrough send-keys -t console Enter; sleep 2
show "sandbox console my-vm      # typed: python3 -c \"print(6*7)\"; stty size; tty / (window resized to 120x30) stty size / exit 4"
tmux -L sandbox-walkthrough capture-pane -p -t console | sed '/^$/d'
tmux -L sandbox-walkthrough kill-server

step "Tunnel a TCP port (the guide's http.server example)"
show "sandbox exec my-vm -- sh -c 'cd /tmp && nohup python3 -m http.server 8000 > /tmp/http.log 2>&1 &'"
sandbox exec my-vm -- sh -c 'cd /tmp && echo "hello through the tunnel" > index.html && nohup python3 -m http.server 8000 > /tmp/http.log 2>&1 &'
sandbox exec my-vm -- sh -c 'for i in $(seq 50); do python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 8000))" 2>/dev/null && exit 0; sleep 0.2; done; exit 1'
local_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
show "sandbox tunnel my-vm --remote-port 8000 --local-port $local_port &"
dotnet "$dll" tunnel my-vm --remote-port 8000 --local-port "$local_port" > "$work/tunnel.out" 2> "$work/tunnel.err" &
tunnel_pid=$!
for _ in $(seq 100); do grep -q Forwarding "$work/tunnel.err" 2>/dev/null && break; sleep 0.2; done
cat "$work/tunnel.out" "$work/tunnel.err"
show "for i in 1 2 3; do curl -s http://127.0.0.1:$local_port/index.html & done; wait"
pids=(); for i in 1 2 3; do curl -s "http://127.0.0.1:$local_port/index.html" & pids+=($!); done; wait "${pids[@]}"
# SIGTERM, handled like Ctrl+C: a script started in the background inherits SIGINT as ignored.
show "kill -TERM <tunnel>   # as Ctrl+C"
kill -TERM "$tunnel_pid"; wait "$tunnel_pid"; echo "[tunnel exit $?]"; tunnel_pid=""
tail -1 "$work/tunnel.err"

step "SSH through the tunnel (ssh-setup, then ssh and scp)"
show "sandbox exec my-vm -- sh -c '... ssh-keygen host key; /usr/sbin/sshd -p 22 ... &'"
sandbox exec my-vm -- sh -c "set -e; mkdir -p /run/sshd /root/sshd; ssh-keygen -q -t ed25519 -N '' -f /root/sshd/host_ed25519; nohup /usr/sbin/sshd -D -e -p 22 -h /root/sshd/host_ed25519 -o PidFile=none -o UsePAM=yes > /root/sshd/log 2>&1 & for i in \$(seq 50); do grep -qiE ':0016 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6 && exit 0; sleep 0.2; done; exit 1"
export HOME="$work/home"; mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C walkthrough -f "$HOME/.ssh/id_ed25519"
show "HOME=$HOME   # a throw-away home: the real ~/.ssh is not touched"
run ssh-setup my-vm
show "cat ~/.ssh/config"; cat "$HOME/.ssh/config"
ssh_opts=(-F "$HOME/.ssh/config" -i "$HOME/.ssh/id_ed25519" -o BatchMode=yes)
show "ssh sandbox-my-vm 'hostname; id -un; python3 -c \"print(2**10)\"'"
ssh "${ssh_opts[@]}" sandbox-my-vm 'hostname; id -un; python3 -c "print(2**10)"'; echo "[exit $?]"
echo "copied with scp" > "$work/note.txt"
show "scp note.txt sandbox-my-vm:/root/note.txt && ssh sandbox-my-vm cat /root/note.txt"
scp -q "${ssh_opts[@]}" "$work/note.txt" sandbox-my-vm:/root/note.txt && ssh "${ssh_opts[@]}" sandbox-my-vm cat /root/note.txt; echo "[exit $?]"

step "Errors are one line and a non-zero exit code"
run get no-such-box || true
run create x --vcpus many || true
run update my-vm --proxy-config @/nonexistent.json || true
show "LANGSMITH_API_KEY=wrong sandbox list"; LANGSMITH_API_KEY=wrong sandbox list || echo "[exit $?]"

step "Clean up"
run delete from-snapshot
run delete my-vm
run snapshot delete "$snapshot_id"
run list
show "kill -TERM <server>   # as Ctrl+C"
kill -TERM "$server_pid"; wait "$server_pid"; echo "[server exit $?]"; server_pid=""
tail -1 "$work/server.log"
