import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { hasNavigated } from '../router';
import { useApp } from '../state';

/** A page: its title in the tab and a heading that takes focus on arrival, so a screen reader
 * announces the new page and Tab continues from there. */
export function Page({ title, children, wide }: { title: string; children: ComponentChildren; wide?: boolean }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { t } = useApp();
  useEffect(() => {
    document.title = `${title} · ${t.app.name}`;
  }, [title, t]);
  useEffect(() => {
    if (hasNavigated()) heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div class={wide ? 'page page-wide' : 'page'}>
      <h1 tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </div>
  );
}
