/** The nomine mark and name: at the top of the sidebar, and larger on the login and setup cards. */
export function Brand({ large = false }: { large?: boolean }) {
  return (
    <div className={large ? 'brand brand-large' : 'brand'}>
      <span className="brand-mark" aria-hidden="true">
        n
      </span>
      <span className="brand-name">nomine</span>
    </div>
  );
}
