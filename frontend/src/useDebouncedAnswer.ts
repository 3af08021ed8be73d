import { useEffect, useRef, useState } from "react";

/**
 * The server's answer about `question`, asked half a second after the question last changed (the user
 * stopped typing); null while `question` is null. An answer to an older question is dropped. `ask`
 * turns a failure into the answer to show (or null).
 */
export function useDebouncedAnswer<T>(question: string | null, ask: (question: string) => Promise<T | null>): T | null {
  const [answer, setAnswer] = useState<T | null>(null);
  const askRef = useRef(ask);
  askRef.current = ask;
  useEffect(() => {
    if (question === null) {
      setAnswer(null);
      return;
    }
    let current = true;
    const timer = window.setTimeout(() => {
      askRef.current(question).then(
        (found) => current && setAnswer(found),
        () => current && setAnswer(null),
      );
    }, 500);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [question]);
  return answer;
}
