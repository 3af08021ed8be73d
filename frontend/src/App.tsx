// The shell: navigation, the catalogue the pages share (games, presets, defaults), and the page
// the address names: / (dashboard), /runs/<run_id>, /compare, /gallery.
import { useEffect, useState } from "react";
import { api, type Defaults, type Game, type Preset, type Run } from "./api";
import { CreateRunModal } from "./components/CreateRunModal";
import { Compare } from "./pages/Compare";
import { Dashboard } from "./pages/Dashboard";
import { Gallery } from "./pages/Gallery";
import { RunPage } from "./pages/RunPage";
import { Link, navigate, usePath } from "./router";

export interface Catalogue {
  games: Game[];
  presets: Preset[];
  defaults?: Defaults;
  cpuCount: number;
}

export function App() {
  const path = usePath();
  const [catalogue, setCatalogue] = useState<Catalogue>({ games: [], presets: [], cpuCount: 1 });
  const [creating, setCreating] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api.games(), api.presets(), api.defaults(), api.system()])
      .then(([games, presets, defaults, system]) =>
        setCatalogue({ games, presets, defaults, cpuCount: system.cpu_count }),
      )
      .catch((error: Error) => setFailure(error.message));
  }, []);

  const created = (run: Run) => {
    setCreating(false);
    navigate(`/runs/${run.run_id}`);
  };
  const runMatch = /^\/runs\/([^/]+)$/.exec(path);
  const page = runMatch ? (
    <RunPage runId={decodeURIComponent(runMatch[1])} defaults={catalogue.defaults} />
  ) : path === "/compare" ? (
    <Compare />
  ) : path === "/gallery" ? (
    <Gallery games={catalogue.games} />
  ) : (
    <Dashboard games={catalogue.games} onNewRun={() => setCreating(true)} />
  );
  const nav = (href: string, label: string) => (
    <Link href={href} aria-current={path === href || (href === "/" && runMatch) ? "page" : undefined}>
      {label}
    </Link>
  );

  return (
    <>
      <header className="top">
        <Link href="/" className="brand">
          RetroML
        </Link>
        <nav aria-label="Main">
          {nav("/", "Runs")}
          {nav("/compare", "Compare")}
          {nav("/gallery", "Gallery")}
        </nav>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New run
        </button>
      </header>
      <main>
        {failure && (
          <p className="form-error" role="alert">
            {failure}
          </p>
        )}
        {page}
      </main>
      {creating && (
        <CreateRunModal
          games={catalogue.games}
          presets={catalogue.presets}
          defaults={catalogue.defaults}
          cpuCount={catalogue.cpuCount}
          onClose={() => setCreating(false)}
          onCreated={created}
        />
      )}
    </>
  );
}
