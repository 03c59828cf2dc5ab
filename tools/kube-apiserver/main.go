// Command kube-apiserver is the real Kubernetes API server (k8s.io/kubernetes/cmd/kube-apiserver/app)
// with an etcd embedded in the same process, for zonekeeper's tests on 127.0.0.1.
//
// With ZONEKEEPER_ETCD_DIR set, it starts a single-member etcd (go.etcd.io/etcd/server/v3/embed) with
// its data in that directory, on free 127.0.0.1 ports, and adds --etcd-servers for it to the
// command line. Every other argument is a kube-apiserver flag, passed through unchanged. Without the
// variable it is a plain kube-apiserver that needs --etcd-servers.
//
// With ZONEKEEPER_PARENT_PID set, it exits as soon as that process is gone (PR_SET_PDEATHSIG plus a
// parent watch), so a test run that dies never leaves a server behind.
package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/sys/unix"
	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	if parent := os.Getenv("ZONEKEEPER_PARENT_PID"); parent != "" {
		watchParent(parent)
	}
	if dir := os.Getenv("ZONEKEEPER_ETCD_DIR"); dir != "" {
		clientURL, err := startEtcd(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "embedded etcd: %v\n", err)
			os.Exit(1)
		}
		if !hasFlag(os.Args[1:], "--etcd-servers") {
			os.Args = append(os.Args, "--etcd-servers="+clientURL)
		}
	}
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// freeURL reserves a free loopback port and releases it for etcd to bind.
func freeURL() (url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}, nil
}

func startEtcd(dir string) (string, error) {
	clientURL, err := freeURL()
	if err != nil {
		return "", err
	}
	peerURL, err := freeURL()
	if err != nil {
		return "", err
	}
	cfg := embed.NewConfig()
	cfg.Name = "zonekeeper-test"
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A test server: no fsync per write (the data directory is thrown away afterwards).
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return "", fmt.Errorf("not ready after 60 s")
	}
	return clientURL.String(), nil
}

// watchParent exits when the parent process is gone.
func watchParent(parent string) {
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	if fmt.Sprint(os.Getppid()) != parent {
		os.Exit(1)
	}
	go func() {
		for fmt.Sprint(os.Getppid()) == parent {
			time.Sleep(500 * time.Millisecond)
		}
		os.Exit(1)
	}()
}
