// Command cert-manager-controller is cert-manager's controller built from the packages of the
// cert-manager module (the version go.mod requires) with a main of our own: the module proxy
// serves the root module but not the nested module of the upstream command. It runs only the
// controllers that CA and selfSigned issuers and Certificates need; ACME, Vault, Venafi, the
// ingress and gateway shims, the webhook and the cainjector are left out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	// The issuer kinds the (Cluster)Issuer controllers can set up; they register themselves.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// enabledControllers: a Certificate's whole life (trigger, key, request, issuing into the Secret,
// readiness, pruning old requests), approval of its requests (no policy engine runs, so every
// request for a cert-manager.io issuer is approved, as upstream's default), signing by CA and
// selfSigned issuers, and the issuers' own Ready condition.
var enabledControllers = []string{
	issuers.ControllerName,
	clusterissuers.ControllerName,
	approver.ControllerName,
	crca.CRControllerName,
	crselfsigned.CRControllerName,
	trigger.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	issuing.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

// Upstream's defaults (the controller's v1alpha1 configuration defaults).
const (
	apiQPS   = 20
	apiBurst = 50
)

// copiedAnnotationPrefixes: upstream's default, every Certificate annotation but those of kubectl,
// Flux and Argo CD is copied to its CertificateRequests.
var copiedAnnotationPrefixes = []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"}

type options struct {
	kubeconfig               string
	clusterResourceNamespace string
	healthzAddress           string
	workers                  int
}

func main() {
	var o options
	klog.InitFlags(nil) // -v sets the log level (2: info, 4: debug), as upstream's.
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file of the API server; empty: the in-cluster configuration (a pod's service account)")
	flag.StringVar(&o.clusterResourceNamespace, "cluster-resource-namespace", "", "namespace of the Secrets that ClusterIssuers refer to (required)")
	flag.StringVar(&o.healthzAddress, "healthz-listen-address", "", "address serving /livez and /readyz (ready once the informer caches have synced); empty: none")
	flag.IntVar(&o.workers, "concurrent-workers", 5, "workers per controller")
	version := flag.Bool("version", false, "print the cert-manager version and exit")
	flag.Parse()

	if *version {
		fmt.Printf("cert-manager-controller %s\n", util.AppVersion)
		return
	}
	if err := validate(o); err != nil {
		fmt.Fprintf(os.Stderr, "cert-manager-controller: %v\n", err)
		os.Exit(2)
	}

	logf.InitLogs()
	defer logf.FlushLogs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "controller")

	if err := run(ctx, o); err != nil {
		logf.Log.Error(err, "cert-manager controller failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func validate(o options) error {
	if o.clusterResourceNamespace == "" {
		return errors.New("--cluster-resource-namespace is required (the namespace of the ClusterIssuers' Secrets)")
	}
	if o.workers < 1 {
		return fmt.Errorf("--concurrent-workers must be at least 1, got %d", o.workers)
	}
	return nil
}

// run starts the controllers and the informers they registered, and returns when ctx ends or a
// controller fails. No leader election: one instance runs (the local cluster has one node and
// one replica; a test runs its own), and a Lease would only make a restarted controller wait
// out the lease of the instance it replaces.
func run(ctx context.Context, o options) error {
	log := logf.FromContext(ctx)
	log.Info("starting cert-manager controller", "version", util.AppVersion, "controllers", enabledControllers)

	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         o.kubeconfig,
		KubernetesAPIQPS:   apiQPS,
		KubernetesAPIBurst: apiBurst,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: o.clusterResourceNamespace},
		CertificateOptions: controller.CertificateOptions{CopiedAnnotationPrefixes: copiedAnnotationPrefixes},
	})
	if err != nil {
		return err
	}
	// Every Context the factory builds shares these informer factories: starting them once, after
	// every controller has registered its informers, starts them all.
	base, err := factory.Build()
	if err != nil {
		return err
	}

	group, ctx := errgroup.WithContext(ctx)
	for _, name := range enabledControllers {
		construct, ok := controller.Known()[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered by the cert-manager packages", name)
		}
		iface, err := construct(factory)
		if err != nil {
			return fmt.Errorf("setting up controller %q: %w", name, err)
		}
		group.Go(func() error {
			log.V(logf.InfoLevel).Info("starting controller", "controller", name)
			return iface.Run(o.workers, ctx)
		})
	}

	base.SharedInformerFactory.Start(ctx.Done())
	base.KubeSharedInformerFactory.Start(ctx.Done())

	var ready atomic.Bool
	group.Go(func() error {
		if err := waitSynced(ctx, base); err != nil {
			return err
		}
		ready.Store(true)
		log.Info("informer caches synced; controllers running")
		return nil
	})
	if o.healthzAddress != "" {
		if err := serveHealth(ctx, group, o.healthzAddress, &ready); err != nil {
			return err
		}
	}

	err = group.Wait()
	base.KubeSharedInformerFactory.Shutdown()
	base.SharedInformerFactory.Shutdown()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("control loops exited")
	return nil
}

// waitSynced waits until every informer started has listed its objects once.
func waitSynced(ctx context.Context, base *controller.Context) error {
	synced := map[string]bool{}
	for kind, ok := range base.SharedInformerFactory.WaitForCacheSync(ctx.Done()) {
		synced[kind.String()] = ok
	}
	for kind, ok := range base.KubeSharedInformerFactory.WaitForCacheSync(ctx.Done()) {
		synced[kind] = ok
	}
	for kind, ok := range synced {
		if !ok {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("informer cache of %s did not sync", kind)
		}
	}
	return nil
}

// serveHealth serves /livez (the process answers) and /readyz (the caches have synced) for a
// pod's probes and for the harness, until ctx ends.
func serveHealth(ctx context.Context, group *errgroup.Group, address string, ready *atomic.Bool) error {
	listener, err := (&net.ListenConfig{}).Listen(ctx, "tcp", address)
	if err != nil {
		return fmt.Errorf("--healthz-listen-address %s: %w", address, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "informer caches not synced", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	group.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return server.Shutdown(shutdown) //nolint:contextcheck // ctx has ended: the shutdown needs a context of its own
	})
	group.Go(func() error {
		if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}
